// Command text is Cairn's first-party text-extraction extension
// (dev.cairn.text), a WASM module built with sdk/cairn. Its stage.text
// extracts the text of each file with package extract (plain text,
// Markdown, HTML, PDF, RTF, DOCX, PPTX, XLSX, ODT, ODS, ODP, EPUB) and writes
// it as the content's sidecar kind "text", variant "plain", format "txt",
// for search to index.
//
// Each item's outcome data, stored by the host as the metadata
// "stage:stage.text" of the content, is
//
//	{"chars": 1234, "format": "pdf", "truncated": false, "pages": 3, "title": "…"}
//
// (chars counts characters, not bytes; pages and title only when known).
// A file of a type with no text gets {} and no sidecar; a malformed file, or
// one over max_input_bytes (default 256 MiB), fails with a clear error and
// the rest of the batch goes on. Text beyond max_output_bytes (default
// 8 MiB) is cut and "truncated" set.
//
// No module is committed: build it with
//
//	GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -trimpath -o text.wasm ./extensions/text
//
// go test ./extensions/text builds it and runs the exttest conformance suite
// against it.
package main
