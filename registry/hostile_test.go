//go:build unix

package registry

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// returns fails the test if f does not return within a generous bound (what it guards against
// is blocking forever; a refusal takes microseconds).
func returns(t *testing.T, what string, f func()) {
	t.Helper()
	done := make(chan struct{})
	go func() { defer close(done); f() }()
	select {
	case <-done:
	case <-time.After(2 * time.Minute):
		t.Fatalf("%s did not return: it blocks", what)
	}
}

func mkfifo(t *testing.T, p string) {
	t.Helper()
	os.Remove(p)
	if err := syscall.Mkfifo(p, 0o600); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
}

// TestHostileRegistry: a registry folder with a FIFO named like a package or like the index
// (200 requests for one made `registry serve` hold 210 threads, each blocked in open), and a
// registry that redirects downloads to another host.
func TestHostileRegistry(t *testing.T) {
	t.Run("serve-fifo-package", func(t *testing.T) {
		dir, _, _ := newRegistry(t)
		mkfifo(t, filepath.Join(dir, "trap.cairnpkg"))
		srv := httptest.NewServer(Handler(dir))
		defer srv.Close()
		returns(t, "GET of a FIFO package", func() {
			resp, err := http.Get(srv.URL + "/trap.cairnpkg")
			if err != nil {
				t.Error(err)
				return
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusNotFound {
				t.Errorf("GET of a FIFO: %s; want 404", resp.Status)
			}
		})
	})
	t.Run("local-fifo-package", func(t *testing.T) {
		dir, _, idx := newRegistry(t)
		r, _ := idx.Lookup("dev.x.y", "0.3.0")
		mkfifo(t, filepath.Join(dir, filepath.FromSlash(r.URL)))
		c, _ := NewClient(dir)
		returns(t, "fetching a FIFO from a folder registry", func() {
			if _, err := c.Fetch(context.Background(), "dev.x.y", r); err == nil || !strings.Contains(err.Error(), "not a regular file") {
				t.Errorf("fetching a FIFO: %v; want 'not a regular file'", err)
			}
		})
	})
	t.Run("local-fifo-index", func(t *testing.T) {
		dir, _, _ := newRegistry(t)
		mkfifo(t, filepath.Join(dir, IndexFile))
		c, _ := NewClient(dir)
		returns(t, "reading a FIFO index", func() {
			if _, err := c.Index(context.Background()); err == nil || !strings.Contains(err.Error(), "not a regular file") {
				t.Errorf("reading a FIFO index: %v; want 'not a regular file'", err)
			}
		})
	})
	t.Run("redirect-to-other-host", func(t *testing.T) {
		dir, _, idx := newRegistry(t)
		other := httptest.NewServer(Handler(dir)) // serves the same bytes: only the host differs
		defer other.Close()
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == "/"+IndexFile {
				Handler(dir).ServeHTTP(w, r)
				return
			}
			http.Redirect(w, r, other.URL+r.URL.Path, http.StatusFound)
		}))
		defer srv.Close()
		c, _ := NewClient(srv.URL)
		c.TempDir = t.TempDir()
		r, _ := idx.Lookup("dev.x.y", "0.3.0")
		if _, err := c.Fetch(context.Background(), "dev.x.y", r); err == nil || !strings.Contains(err.Error(), "another host") {
			t.Fatalf("a download redirected to another host: %v; want it refused", err)
		}
	})
}
