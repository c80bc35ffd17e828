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
//   - the Cairn host ABI (cairn:host/v1), to be built on pdk.CallHost: the
//     capability-checked host functions described in DESIGN.md
//     ("Extensions").
//
// sdk/examples holds buildable guests; sdk/examples/countvowels reproduces
// Extism's classic count_vowels plugin byte for byte and is the fixture of
// the pdk tests. Packages under sdk must build for wasip1 and must not import
// the host-side packages (core, host, cmd, extensions) or the Extism host
// SDK; only host-side tests may.
package sdk
