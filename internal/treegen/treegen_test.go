package treegen

import (
	"context"
	"crypto/sha256"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
)

func manifest(t *testing.T, dir string) (string, int, int) {
	t.Helper()
	h := sha256.New()
	files, dirs := 0, 0
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || p == dir {
			return err
		}
		info, _ := d.Info()
		rel, _ := filepath.Rel(dir, p)
		if d.IsDir() {
			dirs++
			fmt.Fprintf(h, "d %s\n", rel)
			return nil
		}
		files++
		b, _ := os.ReadFile(p)
		fmt.Fprintf(h, "f %s %d %d %x\n", rel, info.Size(), info.ModTime().Unix(), sha256.Sum256(b))
		return nil
	})
	return fmt.Sprintf("%x", h.Sum(nil)), files, dirs
}

func TestDeterministic(t *testing.T) {
	a, b := filepath.Join(t.TempDir(), "a"), filepath.Join(t.TempDir(), "b")
	o := Options{Files: 2000, Seed: 3}
	st, err := Generate(context.Background(), a, o, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Generate(context.Background(), b, o, nil); err != nil {
		t.Fatal(err)
	}
	ma, fa, da := manifest(t, a)
	mb, _, _ := manifest(t, b)
	if ma != mb {
		t.Fatal("two generations with the same options differ")
	}
	if fa != st.Files || da != st.Dirs || st.Files != 2000 || st.Duplicates == 0 || st.Empty == 0 {
		t.Fatalf("stats %+v, on disk %d files %d dirs", st, fa, da)
	}
	if p := Plan(o); p != st {
		t.Fatalf("Plan %+v != Generate %+v", p, st)
	}
	if _, err := Generate(context.Background(), a, o, nil); err == nil {
		t.Fatal("generating into a non-empty folder succeeded")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Generate(ctx, filepath.Join(t.TempDir(), "c"), o, nil); err == nil {
		t.Fatal("cancelled generation succeeded")
	}
}
