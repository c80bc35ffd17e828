// Package modules is the one registry of modules of every kind — built-in Go, WASM and (later)
// go-plugin processes — keyed by namespaced ids: "stage.<name>" (pipeline stages,
// core/pipeline.Stage), "loader.<name>" (file-type loaders, Loader) and "sidecar.<kind>" (sidecar
// generators, SidecarGenerator). Registering an id twice fails loudly and names both owners, as
// in Caddy; an extension's modules are added all together or not at all.
//
// Extension modules are adapters over anything that can call an export (Caller: an
// *ext.Extension, whatever its runner), speaking the JSON messages of host ABI v1
// (schemas/hostabi/v1.md): ExtStage turns a batch of pipeline items into one "stage" call and its
// outcomes back into pipeline outcomes, so the indexer runs extension stages exactly like
// built-in ones. A process (go-plugin) extension plugs in by giving AddExtension an
// *ext.Extension backed by its process runner, with Kind Process and no path mapping.
package modules
