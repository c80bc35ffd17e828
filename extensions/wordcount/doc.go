// Command wordcount is Cairn's first-party word-count extension, a WASM
// module built with sdk/cairn: its stage.wordcount counts the lines, words
// and bytes of text files, the way wc(1) does in a UTF-8 locale, and records
// them as the metadata key "counts" ({"lines", "words", "bytes"}) of each
// content, in its namespace dev.cairn.wordcount.
//
// It reads each file from its item's path in the read-only /data mount (file
// bytes never travel through the call), and requests exactly content.read
// and metadata.write (cairn.toml). Items that are not text, or larger than
// the config's max_size (default 64 MiB), get an outcome {"skipped": reason}
// and no metadata; the manifest's filter keeps the host from sending them in
// the first place.
//
// No module is committed: build it with
//
//	GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -trimpath -o wordcount.wasm ./extensions/wordcount
//
// go test ./extensions/wordcount builds it and runs the exttest conformance
// suite against it.
package main
