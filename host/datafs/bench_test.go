package datafs

import (
	"io"
	"os"
	"path/filepath"
	"testing"
)

// BenchmarkOpenRead opens and reads a small file two directories deep through the FS (scope
// checks, no-symlink resolution, read-only wrapper), against os.ReadFile of the same file.
func BenchmarkOpenRead(b *testing.B) {
	dir := b.TempDir()
	os.MkdirAll(filepath.Join(dir, "d03", "e"), 0o755)
	p := filepath.Join(dir, "d03", "e", "f0003.jpg")
	os.WriteFile(p, []byte("some words in a small file"), 0o644)
	b.Run("datafs", func(b *testing.B) {
		f := New(scopeB(b), []Location{{"A", dir}})
		defer f.Close()
		for i := 0; i < b.N; i++ {
			file, err := f.Open("A/d03/e/f0003.jpg")
			if err != nil {
				b.Fatal(err)
			}
			io.ReadAll(file)
			file.Close()
		}
	})
	b.Run("os.ReadFile", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			if _, err := os.ReadFile(p); err != nil {
				b.Fatal(err)
			}
		}
	})
}
