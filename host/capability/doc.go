// Package capability computes what an extension may do: the capabilities its manifest requests
// intersected with what the user granted, with their scopes (locations and globs for file access,
// sidecar kinds, event types, a metadata or tag namespace, network hosts), and answers the checks
// the host makes on every host call. Everything is deny-by-default.
//
// # Intersection rules
//
// A capability is effective when it is both requested (the manifest's [capabilities] table) and
// granted (a Grant, from the user). Its scope is the intersection of the two scopes:
//
//   - Locations (entries.read, content.read) are location UUIDs, and only the user can name them:
//     the grant lists them ("*" for every location of the library); an empty grant list means no
//     location. A request that lists locations narrows the grant further.
//   - Globs (entries.read, content.read) are matched against the path relative to the location
//     root, with "/" separators: "*", "?" and "[...]" match within one segment (path.Match) and a
//     "**" segment matches any number of segments, none included ("**/*.jpg" matches "a.jpg" and
//     "x/y/a.jpg"; "*.jpg" matches only at the root). A path is in scope when it matches one of
//     the requested globs (if any were requested) and one of the granted globs (if any were
//     granted); with no globs on either side, every path of the granted locations is in scope.
//   - Kinds (sidecars.write): the requested kinds, or the sidecar kinds the manifest contributes
//     when none are listed, narrowed by the granted kinds when the grant lists some.
//   - Types (events.emit, events.subscribe): event types, exact ("photos.face") or prefixes
//     ending in "*" ("photos.*"). The requested types, narrowed by the granted types when the
//     grant lists some. A request without types may emit only types under its own id
//     ("<ext-id>.*") and subscribe to nothing.
//   - Namespace (metadata.write, tags.write): the granted namespace if set, else the requested one,
//     else the extension's id.
//   - Hosts (net): the requested hosts, narrowed by the granted hosts when the grant lists some.
//
// A denial is a *DeniedError (errors.Is(err, ErrDenied)) whose message names the extension, the
// capability and what was requested and granted, e.g.
// "dev.example.hello: content.read is not granted (requested: no; granted: no)".
package capability
