package datafs

import (
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/cairnfs/cairn/host/capability"
	"github.com/cairnfs/cairn/schemas/manifest"
)

// tree makes two locations:
//
//	a/ public/x.jpg public/y.txt public/sub/z.jpg private/p.jpg top.jpg link.jpg -> private/p.jpg
//	   public/escape.jpg -> /etc/passwd   linkdir -> private
//	b/ other.jpg
func tree(t *testing.T) (a, b string) {
	t.Helper()
	base := t.TempDir()
	a, b = filepath.Join(base, "a"), filepath.Join(base, "b")
	for _, f := range []string{"a/public/x.jpg", "a/public/y.txt", "a/public/sub/z.jpg", "a/private/p.jpg", "a/top.jpg", "b/other.jpg"} {
		p := filepath.Join(base, f)
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte("bytes of "+f), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	os.Symlink("private/p.jpg", filepath.Join(a, "link.jpg"))
	os.Symlink("/etc/passwd", filepath.Join(a, "public", "escape.jpg"))
	os.Symlink("private", filepath.Join(a, "linkdir"))
	if err := syscallMkfifo(filepath.Join(a, "public", "fifo.jpg")); err != nil {
		t.Logf("no fifo: %v", err)
	}
	return a, b
}

func scope(t *testing.T, globs ...string) *capability.FileScope { return scopeB(t, globs...) }

func scopeB(t testing.TB, globs ...string) *capability.FileScope {
	t.Helper()
	m := &manifest.Manifest{ID: "dev.test.fs", Capabilities: map[string]manifest.Scope{"content.read": {Globs: []string{"**/*.jpg"}}}}
	s, err := capability.Effective(m, capability.Grant{"content.read": {Locations: []string{"A"}, Globs: globs}})
	if err != nil {
		t.Fatal(err)
	}
	return s.Files(capability.ContentRead)
}

func TestHostileVisibility(t *testing.T) {
	a, b := tree(t)
	f := New(scope(t, "public/**", "top.jpg", "link.jpg", "linkdir/**"), []Location{{"A", a}, {"B", b}})
	defer f.Close()

	read := func(name string) (string, error) {
		b, err := fs.ReadFile(f, name)
		return string(b), err
	}
	for _, ok := range []string{"A/public/x.jpg", "A/public/sub/z.jpg", "A/top.jpg"} {
		if got, err := read(ok); err != nil || got != "bytes of a/"+ok[2:] {
			t.Errorf("read %s = %q, %v", ok, got, err)
		}
	}
	for name, want := range map[string]error{
		"A/public/y.txt":      fs.ErrPermission, // not a requested glob
		"A/private/p.jpg":     fs.ErrPermission, // not a granted glob
		"A/link.jpg":          fs.ErrPermission, // a symlink, even to a file of the location
		"A/public/escape.jpg": fs.ErrPermission, // a symlink out of the location
		"A/linkdir/p.jpg":     fs.ErrPermission, // through a symlinked directory
		"A/public/none.jpg":   fs.ErrNotExist,   // in scope, absent
		"A/secret.txt":        fs.ErrPermission, // same answer whether or not it exists
		"B/other.jpg":         fs.ErrNotExist,   // location not granted: not there at all
		"A/../b/other.jpg":    fs.ErrInvalid,
	} {
		if _, err := read(name); !errors.Is(err, want) {
			t.Errorf("read %s: err = %v, want %v", name, err, want)
		}
	}

	root, err := fs.ReadDir(f, ".")
	if err != nil || len(root) != 1 || root[0].Name() != "A" || !root[0].IsDir() {
		t.Fatalf("ReadDir(.) = %v, %v", root, err)
	}
	var files []string
	err = fs.WalkDir(f, "A", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		files = append(files, p)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"A", "A/public", "A/public/sub", "A/public/sub/z.jpg", "A/public/x.jpg", "A/top.jpg"}
	if !slices.Equal(files, want) {
		t.Errorf("walk = %v, want %v", files, want)
	}
}

func TestNoWriteMethods(t *testing.T) {
	a, b := tree(t)
	f := New(scope(t), []Location{{"A", a}, {"B", b}})
	file, err := f.Open("A/top.jpg")
	if err != nil {
		t.Fatal(err)
	}
	defer file.Close()
	if _, ok := file.(io.Writer); ok {
		t.Error("an open file has a Write method")
	}
	if _, ok := file.(interface{ Truncate(int64) error }); ok {
		t.Error("an open file has a Truncate method")
	}
	buf := make([]byte, 5)
	if n, err := file.(io.ReaderAt).ReadAt(buf, 3); n != 5 || err != nil || string(buf) != "es of" {
		t.Errorf("ReadAt = %d %v %q", n, err, buf)
	}
}

func TestPaths(t *testing.T) {
	a, b := tree(t)
	f := New(scope(t), []Location{{"A", a}, {"B", b}})
	if g, ok := f.GuestPath(filepath.Join(a, "public", "x.jpg")); !ok || g != "/data/A/public/x.jpg" {
		t.Errorf("GuestPath = %q, %v", g, ok)
	}
	if _, ok := f.GuestPath(filepath.Join(a, "public", "y.txt")); ok {
		t.Error("GuestPath of a file out of scope")
	}
	if _, ok := f.GuestPath(filepath.Join(b, "other.jpg")); ok {
		t.Error("GuestPath of a location not granted")
	}
	if h, ok := f.HostPath("/data/A/public/x.jpg"); !ok || h != filepath.Join(a, "public", "x.jpg") {
		t.Errorf("HostPath = %q, %v", h, ok)
	}
	if _, ok := f.HostPath("/data/A/../B/other.jpg"); ok {
		t.Error("HostPath accepted ..")
	}
	if loc, rel, ok := ParsePath("/data/A/x/y.jpg"); !ok || loc != "A" || rel != "x/y.jpg" {
		t.Errorf("ParsePath = %q %q %v", loc, rel, ok)
	}
}

// TestRawNames: a file whose name is not valid UTF-8 gets a UTF-8 alias path that opens it, with
// the scope checked on its real name, and an escaped ".." or NUL is no way out.
func TestRawNames(t *testing.T) {
	a, _ := tree(t)
	for _, n := range []string{"public/caf\xe9.jpg", "public/d\xff/100%.jpg", "private/s\xe9cret.jpg"} {
		p := filepath.Join(a, filepath.FromSlash(n))
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte("bytes of "+n), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	f := New(scope(t, "public/**"), []Location{{"A", a}})
	defer f.Close()
	for _, n := range []string{"public/caf\xe9.jpg", "public/d\xff/100%.jpg"} {
		g, ok := f.GuestPath(filepath.Join(a, filepath.FromSlash(n)))
		if !ok || !utf8.ValidString(g) || !strings.HasPrefix(g, "/data/.raw/A/") {
			t.Fatalf("GuestPath(%q) = %q, %v", n, g, ok)
		}
		b, err := fs.ReadFile(f, strings.TrimPrefix(g, "/data/"))
		if err != nil || string(b) != "bytes of "+n {
			t.Errorf("reading %s: %q %v", g, b, err)
		}
		if loc, rel, ok := ParsePath(g); !ok || loc != "A" || rel != n {
			t.Errorf("ParsePath(%q) = %q %q %v", g, loc, rel, ok)
		}
		if h, ok := f.HostPath(g); !ok || h != filepath.Join(a, filepath.FromSlash(n)) {
			t.Errorf("HostPath(%q) = %q %v", g, h, ok)
		}
		if file, err := f.OpenFile("A", n); err != nil {
			t.Errorf("OpenFile(%q): %v", n, err)
		} else {
			file.Close()
		}
	}
	if g, ok := f.GuestPath(filepath.Join(a, "public", "x.jpg")); g != "/data/A/public/x.jpg" || !ok {
		t.Errorf("a UTF-8 name got %q %v", g, ok)
	}
	for _, name := range []string{".raw/A/private/s%E9cret.jpg", ".raw/A/public/%2E%2E/private/s%E9cret.jpg",
		".raw/A/public%2F..%2Fprivate/p.jpg", ".raw/A/public/x.jpg%00", ".raw/A/public/caf%E", ".raw/A/public/caf%zz.jpg"} {
		if _, err := fs.ReadFile(f, name); err == nil {
			t.Errorf("read %s", name)
		}
	}
	if _, err := fs.ReadFile(f, ".raw/A/public/x.jpg"); err != nil { // an alias of a UTF-8 name is the same file
		t.Errorf("alias of a UTF-8 name: %v", err)
	}
	if ents, err := fs.ReadDir(f, ".raw"); err != nil || len(ents) != 0 {
		t.Errorf(".raw lists %v, %v", ents, err)
	}
}
