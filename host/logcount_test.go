package host_test

import (
	"context"
	"log/slog"
	"sync"
	"testing"

	"github.com/cairnfs/cairn/host"
)

// logCounter counts the bytes the host logs for each extension (messages, attribute keys and
// values as text).
type logCounter struct {
	mu sync.Mutex
	by map[string]int64
}

func (c *logCounter) bytes(ext string) int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.by[ext]
}

type countHandler struct {
	c   *logCounter
	ext string
}

func (h countHandler) Enabled(context.Context, slog.Level) bool { return true }

func (h countHandler) Handle(_ context.Context, r slog.Record) error {
	n, ext := int64(len(r.Message)), h.ext
	r.Attrs(func(a slog.Attr) bool {
		if a.Key == "extension" {
			ext = a.Value.String()
		}
		n += int64(len(a.Key) + len(a.Value.String()))
		return true
	})
	h.c.mu.Lock()
	h.c.by[ext] += n
	h.c.mu.Unlock()
	return nil
}

func (h countHandler) WithAttrs(as []slog.Attr) slog.Handler {
	for _, a := range as {
		if a.Key == "extension" {
			h.ext = a.Value.String()
		}
	}
	return h
}

func (h countHandler) WithGroup(string) slog.Handler { return h }

// unloadAtEnd unloads x when the test ends (if it is still loaded), so that a long suite does
// not keep every extension it loaded, as a real host does not.
func (w *world) unloadAtEnd(t *testing.T, x *host.Extension) {
	t.Cleanup(func() {
		if _, ok := w.h.Get(x.ID()); ok {
			w.h.Unload(context.Background(), x.ID())
		}
	})
}
