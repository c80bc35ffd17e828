//go:build !wasip1

package main

import (
	"fmt"
	"os"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/cairnfs/cairn/sdk/exttest"
)

// BenchmarkStage compares stage.text as WASM with the same code natively (files/s of each
// sub-benchmark), over Markdown, HTML and plain-text files of ~8 KB and the PDF fixture.
func BenchmarkStage(b *testing.B) {
	files := fstest.MapFS{}
	para := strings.Repeat("The quick brown fox jumps over the lazy dog. ", 20)
	pdf, err := os.ReadFile("testdata/hello.pdf")
	if err != nil {
		b.Fatal(err)
	}
	for i := range 16 {
		files[fmt.Sprintf("d/%02d.md", i)] = &fstest.MapFile{Data: []byte(fmt.Sprintf("# Doc %d\n\n%s\n\n*%s*\n", i, para, para)), Mode: 0o644}
		files[fmt.Sprintf("d/%02d.html", i)] = &fstest.MapFile{Data: []byte(fmt.Sprintf("<html><title>%d</title><body><p>%s</p><p>%s</p></body></html>", i, para, para)), Mode: 0o644}
		files[fmt.Sprintf("d/%02d.txt", i)] = &fstest.MapFile{Data: []byte(fmt.Sprint(i, para, para)), Mode: 0o644}
		files[fmt.Sprintf("d/%02d.pdf", i)] = &fstest.MapFile{Data: append(append([]byte{}, pdf...), '\n', byte(i)), Mode: 0o644}
	}
	exttest.StageBench{Dir: ".", Stage: "stage.text", Files: files, Native: textStage.Handle}.Run(b)
}
