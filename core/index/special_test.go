//go:build unix

package index_test

import (
	"net"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/cairnfs/cairn/core/index"
	"github.com/cairnfs/cairn/core/store"
)

// TestHostileSpecialFiles: FIFOs and sockets are stored with their own kinds (they were stored
// as "file"), get no content identity and are never opened (a FIFO would block a reader
// forever); a regular file that becomes a FIFO changes kind on the next index.
func TestHostileSpecialFiles(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "plain.txt"), []byte("hello"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "was-a-file"), []byte("bytes"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mkfifo(filepath.Join(dir, "pipe"), 0o600); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	sock, err := net.Listen("unix", filepath.Join(dir, "sock"))
	if err != nil {
		t.Skipf("unix socket: %v", err)
	}
	defer sock.Close()
	fx := newFixture(t, dir, store.ModeContent)
	s := fx.index(t, index.Options{})
	if s.Special != 2 || s.Files != 2 {
		t.Errorf("summary: %d files, %d special; want 2 and 2", s.Files, s.Special)
	}
	// The file becomes a FIFO.
	os.Remove(filepath.Join(dir, "was-a-file"))
	if err := syscall.Mkfifo(filepath.Join(dir, "was-a-file"), 0o600); err != nil {
		t.Fatal(err)
	}
	fx.index(t, index.Options{})
	diff(t, fx.indexed(t), []string{"fifo 0 pipe", "fifo 0 was-a-file", "file 5 plain.txt", "socket 0 sock"})
	var n int
	if err := fx.lib.Store.SQL().QueryRow(`SELECT count(*) FROM entries WHERE kind >= 3 AND content_id IS NOT NULL`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		t.Errorf("%d special files have a content identity", n)
	}
}
