package host_test

import (
	"context"
	"log/slog"
	"sync"
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
