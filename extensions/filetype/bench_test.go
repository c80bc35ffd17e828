//go:build !wasip1

package main

import (
	"bytes"
	"fmt"
	"testing"
	"testing/fstest"

	"github.com/cairnfs/cairn/sdk/exttest"
)

// BenchmarkStage compares stage.filetype as WASM with the same code natively (files/s of each
// sub-benchmark), over 256 small files of mixed types, some misnamed or without extension.
func BenchmarkStage(b *testing.B) {
	heads := map[string][]byte{
		"png": []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"), "jpg": {0xff, 0xd8, 0xff, 0xe0, 0, 0x10, 'J', 'F', 'I', 'F', 0},
		"pdf": []byte("%PDF-1.7\n"), "txt": []byte("hello world, plain text\n"), "go": []byte("package main\n\nfunc main() {}\n"),
		"sh": []byte("#!/bin/sh\necho hi\n"), "gz": {0x1f, 0x8b, 8, 0}, "bin": {0, 1, 2, 3, 0xff, 0xfe},
	}
	files := fstest.MapFS{}
	i := 0
	for ext, h := range heads {
		for j := range 32 {
			name := fmt.Sprintf("f/%03d.%s", i, ext)
			if j%4 == 0 {
				name = fmt.Sprintf("f/%03d", i) // no extension: sniffed
			}
			files[name] = &fstest.MapFile{Data: append(bytes.Repeat(h, 1+j%3), byte(i)), Mode: 0o644}
			i++
		}
	}
	exttest.StageBench{Dir: ".", Stage: "stage.filetype", Files: files, Native: filetype.Handle}.Run(b)
}
