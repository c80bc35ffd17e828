// Package sdk is the guest side of Cairn's WebAssembly extension platform:
// what an extension author imports to build a module that a Cairn host (or
// any Extism host) can load.
//
// Extensions are ordinary Go programs compiled by the standard toolchain
// (no TinyGo) as WASI reactors:
//
//	GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -o ext.wasm ./myext
//
// The layers, lowest first:
//
//   - [github.com/cairnfs/cairn/sdk/pdk]: the Extism plugin development kit,
//     our own implementation of the Extism kernel ABI (the extism:host/env
//     imports) for standard Go: input, output, errors, config, variables,
//     logging, HTTP, kernel memory, calls to host functions, and the Export
//     wrapper every export must use.
//   - [github.com/cairnfs/cairn/sdk/cairn]: the Cairn host ABI
//     (cairn:host/v1, schemas/hostabi/v1.md) on pdk.CallHost: typed,
//     capability-checked host calls and handlers for stages, sidecars,
//     loaders, queries and cairn_init.
//
// For authors, on the host side of go test:
//
//   - [github.com/cairnfs/cairn/sdk/exttest]: the conformance suite an
//     extension runs in its own tests, in a plain Extism host with a fake
//     Cairn host;
//   - [github.com/cairnfs/cairn/sdk/scaffold]: new extension projects
//     (`cairn ext new`).
//
// sdk/examples holds buildable guests; sdk/examples/countvowels reproduces
// Extism's classic count_vowels plugin byte for byte and is the fixture of
// the pdk tests. Guest packages under sdk (pdk, cairn, examples) must build
// for wasip1 and must not import the host-side packages (core, host, cmd,
// extensions) or the Extism host SDK. exttest and scaffold are host-side
// (they import the Extism host SDK and schemas/manifest) but still nothing
// from core or host.
package sdk
