// Command makecorpus writes the file-type test corpus into a directory:
//
//	go run ./extensions/filetype/detect/corpus/cmd/makecorpus DIR
//
// It prints one line per sample (name, true MIME type, format) and, on
// standard error, the recipes it left out and why.
package main

import (
	"context"
	"fmt"
	"os"

	"github.com/cairnfs/cairn/extensions/filetype/detect/corpus"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: makecorpus DIR")
		os.Exit(2)
	}
	samples, skipped, err := corpus.Generate(context.Background(), os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	for _, s := range samples {
		fmt.Printf("%s\t%s\t%s\n", s.Name, s.Label, s.Format)
	}
	for _, s := range skipped {
		fmt.Fprintf(os.Stderr, "skipped %s: %s\n", s.Name, s.Reason)
	}
}
