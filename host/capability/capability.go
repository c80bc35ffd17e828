package capability

import (
	"errors"
	"fmt"
	"net"
	"slices"
	"sort"
	"strings"

	"github.com/cairnfs/cairn/schemas/manifest"
)

// Capability names (the vocabulary of manifest.Capabilities).
const (
	EntriesRead     = "entries.read"
	ContentRead     = "content.read"
	ContentType     = "content.type"
	SidecarsWrite   = "sidecars.write"
	TagsWrite       = "tags.write"
	MetadataWrite   = "metadata.write"
	JobsDispatch    = "jobs.dispatch"
	ActionsPropose  = "actions.propose"
	EventsSubscribe = "events.subscribe"
	EventsEmit      = "events.emit"
	ModelsOwn       = "models.own"
	Net             = "net"
	KV              = "kv"
	MediaDecode     = "media.decode"
)

// AllLocations in a granted Locations list grants every location of the library.
const AllLocations = "*"

// ErrDenied is what every capability denial wraps.
var ErrDenied = errors.New("capability denied")

// DeniedError is a denial: which extension, which capability, and why.
type DeniedError struct {
	Extension  string
	Capability string
	// Reason completes the sentence "<ext>: <capability> <reason>".
	Reason string
}

func (e *DeniedError) Error() string { return e.Extension + ": " + e.Capability + " " + e.Reason }

// Is makes errors.Is(err, ErrDenied) true.
func (e *DeniedError) Is(target error) bool { return target == ErrDenied }

// Grant is what the user granted an extension: capability name → scope (see the package doc for
// what each field means on the grant side).
type Grant map[string]manifest.Scope

// Set is an extension's effective capabilities. It is immutable and safe for concurrent use.
type Set struct {
	ext       string
	requested map[string]manifest.Scope
	granted   Grant
	files     map[string]*FileScope // entries.read, content.read
	kinds     []string
	emitTypes []string
	subTypes  []string
	hosts     []string
	ns        map[string]string
}

// Effective intersects what m requests with what the user granted. It fails on a malformed glob
// on either side (nothing is granted by a pattern that cannot be read).
func Effective(m *manifest.Manifest, g Grant) (*Set, error) {
	s := &Set{ext: m.ID, requested: m.Capabilities, granted: g, files: map[string]*FileScope{}, ns: map[string]string{}}
	for _, c := range []string{EntriesRead, ContentRead} {
		if !s.Has(c) {
			continue
		}
		fs, err := newFileScope(m.ID, c, m.Capabilities[c], g[c])
		if err != nil {
			return nil, err
		}
		s.files[c] = fs
	}
	if s.Has(SidecarsWrite) {
		req := m.Capabilities[SidecarsWrite].Kinds
		if len(req) == 0 {
			for _, sc := range m.Contributes.Sidecars {
				req = append(req, sc.Kind)
			}
		}
		s.kinds = narrow(req, g[SidecarsWrite].Kinds, func(a, b string) bool { return a == b })
	}
	if s.Has(EventsEmit) {
		req := m.Capabilities[EventsEmit].Types
		if len(req) == 0 {
			req = []string{m.ID + ".*"}
		}
		s.emitTypes = narrow(req, g[EventsEmit].Types, typeCovers)
	}
	if s.Has(EventsSubscribe) {
		s.subTypes = narrow(m.Capabilities[EventsSubscribe].Types, g[EventsSubscribe].Types, typeCovers)
	}
	if s.Has(Net) {
		s.hosts = narrow(m.Capabilities[Net].Hosts, g[Net].Hosts, func(a, b string) bool { return a == b })
	}
	for _, c := range []string{MetadataWrite, TagsWrite} {
		if !s.Has(c) {
			continue
		}
		ns := g[c].Namespace
		if ns == "" {
			ns = m.Capabilities[c].Namespace
		}
		if ns == "" {
			ns = m.ID
		}
		s.ns[c] = ns
	}
	return s, nil
}

// narrow keeps the requested values that some granted value covers (all of them when the grant
// lists none).
func narrow(req, granted []string, covers func(grant, req string) bool) []string {
	if len(granted) == 0 {
		return slices.Clone(req)
	}
	var out []string
	for _, r := range req {
		for _, g := range granted {
			if covers(g, r) {
				out = append(out, r)
				break
			}
		}
	}
	return out
}

// Extension is the id of the extension the set belongs to.
func (s *Set) Extension() string { return s.ext }

// Has reports whether capability c is both requested and granted.
func (s *Set) Has(c string) bool {
	_, req := s.requested[c]
	_, gr := s.granted[c]
	return req && gr
}

// Names lists the effective capabilities, sorted.
func (s *Set) Names() []string {
	var out []string
	for c := range s.requested {
		if s.Has(c) {
			out = append(out, c)
		}
	}
	sort.Strings(out)
	return out
}

// Check returns nil when c is effective, else a *DeniedError saying which side is missing.
func (s *Set) Check(c string) error {
	if s.Has(c) {
		return nil
	}
	_, req := s.requested[c]
	_, gr := s.granted[c]
	return &DeniedError{Extension: s.ext, Capability: c,
		Reason: fmt.Sprintf("is not granted (requested: %s; granted: %s)", yesNo(req), yesNo(gr))}
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

// Files returns the file scope of entries.read or content.read, or nil when c is not effective
// (a nil *FileScope allows nothing).
func (s *Set) Files(c string) *FileScope { return s.files[c] }

// CheckFile checks c (entries.read or content.read) for the file at rel in location loc; what
// names the file in the denial (the path as the extension sees it).
func (s *Set) CheckFile(c, loc, rel, what string) error {
	if err := s.Check(c); err != nil {
		return err
	}
	f := s.files[c]
	if f.Allows(loc, rel) {
		return nil
	}
	return f.Deny(what)
}

// Kinds returns the sidecar kinds the extension may write.
func (s *Set) Kinds() []string { return slices.Clone(s.kinds) }

// CheckKind checks sidecars.write for kind.
func (s *Set) CheckKind(kind string) error {
	if err := s.Check(SidecarsWrite); err != nil {
		return err
	}
	if slices.Contains(s.kinds, kind) {
		return nil
	}
	return &DeniedError{Extension: s.ext, Capability: SidecarsWrite,
		Reason: fmt.Sprintf("does not cover kind %q (granted kinds: %s)", kind, list(s.kinds))}
}

// CheckEmit checks events.emit for an event type.
func (s *Set) CheckEmit(typ string) error { return s.checkType(EventsEmit, s.emitTypes, typ) }

// CheckSubscribe checks events.subscribe for an event type.
func (s *Set) CheckSubscribe(typ string) error { return s.checkType(EventsSubscribe, s.subTypes, typ) }

// SubscribeTypes returns the event type patterns the extension may receive.
func (s *Set) SubscribeTypes() []string { return slices.Clone(s.subTypes) }

func (s *Set) checkType(c string, types []string, typ string) error {
	if err := s.Check(c); err != nil {
		return err
	}
	for _, t := range types {
		if typeCovers(t, typ) {
			return nil
		}
	}
	return &DeniedError{Extension: s.ext, Capability: c,
		Reason: fmt.Sprintf("does not cover event type %q (granted types: %s)", typ, list(types))}
}

// typeCovers reports whether the type pattern p ("a.b" or "a.*", "*") covers t, which may itself
// be a pattern (then p must cover every type t covers).
func typeCovers(p, t string) bool {
	if strings.HasSuffix(p, "*") {
		return strings.HasPrefix(t, p[:len(p)-1])
	}
	return p == t
}

// Namespace returns the namespace metadata.write or tags.write writes in ("" when not effective).
func (s *Set) Namespace(c string) string { return s.ns[c] }

// CheckHost checks net for the host of a URL: host is its host name (an IP address or a DNS
// name, without brackets) and port its port ("" for the scheme's default, which the caller
// fills in where it matters). A granted entry is either a host name, which covers every port of
// exactly that name, or "name:port" (IPv6: "[addr]:port"), which covers that port only. Names
// compare without case and must be equal: no wildcards, no resolution, so "localhost" and
// "127.0.0.1" are different hosts, as are "example.com" and "www.example.com".
func (s *Set) CheckHost(host, port string) error {
	if err := s.Check(Net); err != nil {
		return err
	}
	host = strings.ToLower(strings.TrimSuffix(host, "."))
	for _, h := range s.hosts {
		name, p := splitHostPort(h)
		if name == host && (p == "" || p == port) {
			return nil
		}
	}
	shown := host
	if port != "" {
		shown = net.JoinHostPort(host, port)
	}
	return &DeniedError{Extension: s.ext, Capability: Net,
		Reason: fmt.Sprintf("does not cover host %q (granted hosts: %s)", shown, list(s.hosts))}
}

// splitHostPort splits a granted host entry into its lowercase name and its port ("" for any).
func splitHostPort(h string) (name, port string) {
	if n, p, err := net.SplitHostPort(h); err == nil {
		return strings.ToLower(strings.TrimSuffix(n, ".")), p
	}
	return strings.ToLower(strings.TrimSuffix(strings.Trim(h, "[]"), ".")), ""
}

// Hosts returns the hosts net allows.
func (s *Set) Hosts() []string { return slices.Clone(s.hosts) }

func list(v []string) string {
	if len(v) == 0 {
		return "none"
	}
	return strings.Join(v, ", ")
}

// FileScope is the file scope of entries.read or content.read: the granted locations and the
// globs a location-relative path must match. A nil *FileScope allows nothing.
type FileScope struct {
	ext, cap  string
	allLocs   bool
	locs      []string // location UUIDs (when not allLocs), sorted
	reqLocs   []string // the request's own narrowing, if any
	reqGlobs  []Glob
	grantGlob []Glob
}

func newFileScope(ext, c string, req, gr manifest.Scope) (*FileScope, error) {
	fs := &FileScope{ext: ext, cap: c, reqLocs: slices.Clone(req.Locations)}
	for _, l := range gr.Locations {
		if l == AllLocations {
			fs.allLocs = true
			continue
		}
		fs.locs = append(fs.locs, l)
	}
	sort.Strings(fs.locs)
	var err error
	if fs.reqGlobs, err = compileAll(req.Globs); err != nil {
		return nil, fmt.Errorf("%s: requested %s scope: %w", ext, c, err)
	}
	if fs.grantGlob, err = compileAll(gr.Globs); err != nil {
		return nil, fmt.Errorf("%s: granted %s scope: %w", ext, c, err)
	}
	return fs, nil
}

func compileAll(patterns []string) ([]Glob, error) {
	var out []Glob
	for _, p := range patterns {
		g, err := CompileGlob(p)
		if err != nil {
			return nil, err
		}
		out = append(out, g)
	}
	return out, nil
}

// AllowsLocation reports whether the location (by UUID) is in scope.
func (f *FileScope) AllowsLocation(loc string) bool {
	if f == nil {
		return false
	}
	if len(f.reqLocs) > 0 && !slices.Contains(f.reqLocs, loc) {
		return false
	}
	if f.allLocs {
		return true
	}
	_, ok := slices.BinarySearch(f.locs, loc)
	return ok
}

// Allows reports whether the file at rel (location-relative, "/"-separated, not "") in the
// location loc is in scope.
func (f *FileScope) Allows(loc, rel string) bool {
	return f.AllowsLocation(loc) && rel != "" && matchAny(f.reqGlobs, rel) && matchAny(f.grantGlob, rel)
}

// MayContain reports whether the directory dir ("" for the root) of location loc could hold a
// path in scope (an over-approximation: it may say yes for a directory holding none).
func (f *FileScope) MayContain(loc, dir string) bool {
	return f.AllowsLocation(loc) && mayContainAny(f.reqGlobs, dir) && mayContainAny(f.grantGlob, dir)
}

// AllowsGlobs reports whether the scope has no glob restriction (every path of its locations).
func (f *FileScope) AllowsGlobs() bool {
	return f != nil && len(f.reqGlobs) == 0 && len(f.grantGlob) == 0
}

// Locations returns the granted location UUIDs, and whether every location is granted (then the
// list is empty unless the request narrowed it).
func (f *FileScope) Locations() (uuids []string, all bool) {
	if f == nil {
		return nil, false
	}
	if len(f.reqLocs) > 0 {
		var out []string
		for _, l := range f.reqLocs {
			if f.AllowsLocation(l) {
				out = append(out, l)
			}
		}
		return out, false
	}
	return slices.Clone(f.locs), f.allLocs
}

// Deny returns the denial for a path outside the scope, naming the path as the guest sees it. f
// must not be nil (use Set.CheckFile).
func (f *FileScope) Deny(what string) error {
	locs, all := f.Locations()
	l := list(locs)
	if all {
		l = "all"
	}
	var globs []string
	for _, g := range f.reqGlobs {
		globs = append(globs, g.String())
	}
	for _, g := range f.grantGlob {
		globs = append(globs, "granted:"+g.String())
	}
	if len(globs) == 0 {
		globs = []string{"**"}
	}
	return &DeniedError{Extension: f.ext, Capability: f.cap,
		Reason: fmt.Sprintf("does not cover %s (locations: %s; globs: %s)", what, l, strings.Join(globs, ", "))}
}
