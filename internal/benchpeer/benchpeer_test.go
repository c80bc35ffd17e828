package benchpeer

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"testing"
)

func TestFindAndFdCountEntries(t *testing.T) {
	dir := t.TempDir()
	for i := 0; i < 30; i++ {
		p := filepath.Join(dir, "d"+strconv.Itoa(i%4), "f"+strconv.Itoa(i))
		os.MkdirAll(filepath.Dir(p), 0o755)
		os.WriteFile(p, []byte("x"), 0o644)
	}
	os.WriteFile(filepath.Join(dir, ".hidden"), nil, 0o644)
	want := -1 // WalkDir counts the root itself
	filepath.WalkDir(dir, func(string, fs.DirEntry, error) error { want++; return nil })
	if r := Find(context.Background(), dir); r.Err != nil || r.Entries != want || r.PeakRSS == 0 {
		t.Fatalf("find: %+v, want %d entries", r, want)
	}
	r := Fd(context.Background(), dir)
	if errors.Is(r.Err, ErrNotInstalled) {
		t.Skip("fd not installed (apt-get install fd-find)")
	}
	if r.Err != nil || r.Entries != want {
		t.Fatalf("fd: %+v, want %d entries", r, want)
	}
}
