package library

import (
	"context"
	"errors"
	"os"
	"path/filepath"
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

func TestCorruptLibrary(t *testing.T) {
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
