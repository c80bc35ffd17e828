// Command filetype is Cairn's first-party file-type extension, a WASM
// module built with sdk/cairn: its stage.filetype detects each content's MIME
// type and content kind with package detect (TOML definitions: magic bytes,
// ZIP contents, shebangs, text sniffing, names) and returns them as the
// stage's outcome data {"mime", "kind", "confidence", "by", "name"}; the host
// applies mime and kind to the content from that data, so the stage makes no
// host call per file.
//
// Its config {"definitions": ["<TOML text>", ...]} adds user types without
// rebuilding; the detector is built once per distinct config and cached.
//
// No module is committed: build it with
//
//	GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -trimpath -o filetype.wasm ./extensions/filetype
//
// go test ./extensions/filetype builds it and runs the exttest conformance
// suite against it.
package main
