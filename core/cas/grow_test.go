package cas

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// TestHostileGrowingFile: a file that grows while it is fully hashed is reported as changed
// after reading at most one byte past its size at open; the hash never reads to a moving EOF
// (a file appended to faster than it was read kept the hash running forever).
func TestHostileGrowingFile(t *testing.T) {
	p := filepath.Join(t.TempDir(), "growing.log")
	const size = 1 << 20
	if err := os.WriteFile(p, make([]byte, size), 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		t.Fatal(err)
	}
	// The file grows by 8 MiB after it was opened and stat'ed.
	w, err := os.OpenFile(p, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(make([]byte, 8<<20)); err != nil {
		t.Fatal(err)
	}
	w.Close()
	_, n, err := fullHashOpen(context.Background(), f, st)
	if !errors.Is(err, ErrChanged) {
		t.Fatalf("hashing a file that grew: %v; want ErrChanged", err)
	}
	if n > size+1 {
		t.Fatalf("read %d bytes of a file that had %d at open; want at most %d", n, size, size+1)
	}
}
