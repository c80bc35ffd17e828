// Command text is Cairn's first-party text-extraction extension
// (dev.cairn.text), a WASM module built with sdk/cairn. Its stage.text
// extracts the text of each file with package extract (plain text,
// Markdown, troff man pages, HTML, PDF, RTF, DOCX, PPTX, XLSX, ODT, ODS, ODP,
// EPUB, and any of them gzip-compressed: ls.1.gz, changelog.gz) and writes it
// as the content's sidecar kind "text", variant "plain", format "txt", for
// search to index.
//
// A file that is already plain UTF-8 text (no byte-order mark, no CR, not
// cut) is its own text sidecar: the stage records the sidecar with storage
// "content" (host ABI 1.1) and no copy is written; readers open the file
// itself. Compressed files are decompressed to at most 16 MiB (against gzip
// bombs; the text is then marked truncated); archives (.tar.gz, .tgz) are
// skipped by name, other compressed data that is not text from its first
// 64 KiB.
//
// Each item's outcome data, stored by the host as the metadata
// "stage:stage.text" of the content, is
//
//	{"chars": 1234, "format": "pdf", "truncated": false, "pages": 3, "title": "…"}
//
// (chars counts characters, not bytes; pages and title only when known;
// "storage": "content" when the file is its own sidecar, "compression":
// "gzip" for text from a compressed file).
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
