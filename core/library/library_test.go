package library

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cairnfs/cairn/core/store"
)

func TestLifecycle(t *testing.T) {
	ctx := context.Background()
	h := Home{Dir: t.TempDir()}
	if _, err := h.Resolve("", false); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Resolve with no library: %v", err)
	}
	for _, bad := range []string{"", "../x", "a/b", ".hidden", "x y"} {
		if err := h.Create(ctx, bad); !errors.Is(err, ErrBadName) {
			t.Errorf("Create(%q) = %v, want ErrBadName", bad, err)
		}
	}
	if err := h.Create(ctx, "photos"); err != nil {
		t.Fatal(err)
	}
	if err := h.Create(ctx, "photos"); !errors.Is(err, ErrExists) {
		t.Fatalf("second Create = %v, want ErrExists", err)
	}
	if name, err := h.Resolve("", false); err != nil || name != "photos" {
		t.Fatalf("Resolve = %q, %v", name, err)
	}
	if err := h.Create(ctx, "work"); err != nil {
		t.Fatal(err)
	}
	if _, err := h.Resolve("", false); !errors.Is(err, ErrAmbiguous) {
		t.Fatalf("Resolve with two libraries = %v, want ErrAmbiguous", err)
	}
	libs, err := h.List()
	if err != nil || len(libs) != 2 || libs[0].Name != "photos" || libs[1].Name != "work" {
		t.Fatalf("List = %+v, %v", libs, err)
	}
	l, err := h.Open(ctx, "photos", OpenOptions{Write: true})
	if err != nil {
		t.Fatal(err)
	}
	if l.Device == nil || len(l.Device.PublicKey) != 32 || l.DeviceID == 0 {
		t.Fatalf("device identity not set up: %+v", l.Device)
	}
	// The lock keeps a second writer (and a delete) out, but not a reader.
	if _, err := h.Open(ctx, "photos", OpenOptions{Write: true}); !errors.Is(err, ErrLocked) {
		t.Fatalf("second writer: %v, want ErrLocked", err)
	}
	if err := h.Delete("photos"); !errors.Is(err, ErrLocked) {
		t.Fatalf("Delete while open: %v, want ErrLocked", err)
	}
	r, err := h.Open(ctx, "photos", OpenOptions{})
	if err != nil {
		t.Fatalf("reader while a writer holds the lock: %v", err)
	}
	r.Close()
	l.Close()
	if err := h.Delete("photos"); err != nil {
		t.Fatal(err)
	}
	if _, err := h.Open(ctx, "photos", OpenOptions{}); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Open after delete: %v", err)
	}
	// The device identity is stable across opens.
	d1, _ := h.Device()
	d2, _ := h.Device()
	if d1.ID != d2.ID {
		t.Error("device identity changed between loads")
	}
}

func TestHostileCorruptLibrary(t *testing.T) {
	ctx := context.Background()
	h := Home{Dir: t.TempDir()}
	if err := h.Create(ctx, "broken"); err != nil {
		t.Fatal(err)
	}
	db := filepath.Join(h.Path("broken"), "library.db")
	junk := make([]byte, 8192)
	for i := range junk {
		junk[i] = byte(i * 7)
	}
	os.Remove(db + "-wal")
	os.Remove(db + "-shm")
	if err := os.WriteFile(db, junk, 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := h.Open(ctx, "broken", OpenOptions{Write: true})
	if !errors.Is(err, store.ErrCorrupt) {
		t.Fatalf("Open(corrupt) = %v, want ErrCorrupt", err)
	}
	// The failed open released the lock.
	if err := h.Delete("broken"); err != nil {
		t.Fatalf("delete of a corrupt library: %v", err)
	}
}

// TestOpenRefusesEmptyOrForeignDatabase: a library whose library.db is 0 bytes (truncated) or
// not SQLite at all is reported as corrupt, with the library named and what to do, and the file
// is left exactly as it was (SQLite would otherwise treat a 0-byte file as a new database and
// write a fresh schema over it). Issue 12, defect 6.
func TestOpenRefusesEmptyOrForeignDatabase(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name    string
		content []byte
		want    string
	}{
		{"empty", nil, "library.db is empty (0 bytes): the database is corrupt or was truncated; restore it from a backup"},
		{"text", []byte("name = \"not a database\"\n"), "library.db is not a SQLite database (24 bytes that do not begin with \"SQLite format 3\")"},
		{"short", []byte("SQLite"), "library.db is not a SQLite database (6 bytes"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := Home{Dir: t.TempDir()}
			if err := h.Create(ctx, "lib"); err != nil {
				t.Fatal(err)
			}
			db := filepath.Join(h.Path("lib"), "library.db")
			if err := os.WriteFile(db, tc.content, 0o644); err != nil {
				t.Fatal(err)
			}
			for _, write := range []bool{false, true} {
				_, err := h.Open(ctx, "lib", OpenOptions{Write: write})
				if !errors.Is(err, store.ErrCorrupt) {
					t.Fatalf("Open(write=%v) = %v, want ErrCorrupt", write, err)
				}
				if msg := err.Error(); !strings.HasPrefix(msg, "library lib: ") || !strings.Contains(msg, tc.want) || !strings.Contains(msg, db) {
					t.Errorf("Open(write=%v) error %q: want it to start with \"library lib: \", contain %q and name %s", write, msg, tc.want, db)
				}
			}
			if got, err := os.ReadFile(db); err != nil || string(got) != string(tc.content) {
				t.Fatalf("library.db changed by the failed opens: %q, %v", got, err)
			}
		})
	}
}

// TestNamedLibraryMustExist: a name given by the user is never taken as "create it": Resolve
// and Open say the library does not exist and how to list or create one. Issue 12, defect 4.
func TestNamedLibraryMustExist(t *testing.T) {
	ctx := context.Background()
	h := Home{Dir: t.TempDir()}
	want := "library nope does not exist in " + h.Dir + " (cairn library list; cairn library create nope)"
	for _, create := range []bool{false, true} {
		if _, err := h.Resolve("nope", create); !errors.Is(err, ErrNotFound) || err.Error() != want {
			t.Errorf("Resolve(nope, create=%v) = %v, want %q", create, err, want)
		}
	}
	if _, err := h.Open(ctx, "nope", OpenOptions{}); !errors.Is(err, ErrNotFound) || err.Error() != want {
		t.Errorf("Open(nope) = %v, want %q", err, want)
	}
	if _, err := h.Resolve("../escape", false); !errors.Is(err, ErrBadName) {
		t.Errorf("Resolve(../escape) = %v, want ErrBadName", err)
	}
	if _, err := os.Stat(h.Path("nope")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a lookup created the library folder: %v", err)
	}
	// With no library at all and create set, the unnamed library is "default".
	if name, err := h.Resolve("", true); err != nil || name != "default" {
		t.Errorf("Resolve(\"\", create) = %q, %v; want default", name, err)
	}
}

// TestListSizes: List reports each library's database bytes and the bytes and files of its
// sidecar folder.
func TestListSizes(t *testing.T) {
	ctx := context.Background()
	h := Home{Dir: t.TempDir()}
	for _, n := range []string{"a", "b"} {
		if err := h.Create(ctx, n); err != nil {
			t.Fatal(err)
		}
	}
	sc := filepath.Join(h.Path("b"), "sidecars")
	for p, n := range map[string]int{"thumb/ab/x.webp": 1000, "thumb/cd/y.webp": 234, "text/z.txt": 10} {
		full := filepath.Join(sc, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, make([]byte, n), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink("text/z.txt", filepath.Join(sc, "link")); err != nil { // not counted twice
		t.Fatal(err)
	}
	libs, err := h.List()
	if err != nil {
		t.Fatal(err)
	}
	if len(libs) != 2 {
		t.Fatalf("List = %+v", libs)
	}
	st, err := os.Stat(filepath.Join(h.Path("a"), "library.db"))
	if err != nil {
		t.Fatal(err)
	}
	if libs[0].Size < st.Size() || libs[0].Size == 0 {
		t.Errorf("a: db bytes %d, library.db alone is %d", libs[0].Size, st.Size())
	}
	if libs[0].SidecarBytes != 0 || libs[0].SidecarFiles != 0 {
		t.Errorf("a: sidecars %d bytes in %d files, want 0", libs[0].SidecarBytes, libs[0].SidecarFiles)
	}
	if libs[1].SidecarBytes != 1244 || libs[1].SidecarFiles != 3 {
		t.Errorf("b: sidecars %d bytes in %d files, want 1244 in 3", libs[1].SidecarBytes, libs[1].SidecarFiles)
	}
	// A library without a sidecars folder (made by an older version) lists with 0.
	if err := os.RemoveAll(filepath.Join(h.Path("a"), "sidecars")); err != nil {
		t.Fatal(err)
	}
	if libs, err := h.List(); err != nil || libs[0].SidecarBytes != 0 {
		t.Errorf("List without sidecars/: %+v, %v", libs, err)
	}
}
