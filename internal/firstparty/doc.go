// Package firstparty holds Cairn's first-party extensions (extensions/filetype, media, text,
// thumbnail and mediathumb) as the cairn binary ships them.
//
// The WASM extensions are built reproducibly by `go generate ./internal/firstparty` (the
// generator in ./gen: GOOS=wasip1 GOARCH=wasm, -trimpath, no VCS stamp, no build id) into
// ./modules, which is embedded in the binary with each module's BLAKE3 and the hash of the
// sources it was built from (modules/pins.json). A test rebuilds them and fails when one is
// stale. The native extension (mediathumb) is compiled into the binary itself and served by
// re-executing it (Serve, NativeExec). A `go install`ed cairn therefore runs its default
// pipeline with no Go toolchain and no source tree.
//
// For developers, FromSource builds the same extensions from a source tree at run time
// (CAIRN_FIRSTPARTY=source), cached by source hash.
package firstparty
