package logattr

import (
	"context"
	"log/slog"
	"maps"
)

// Once wraps h so that an attribute whose key is already attached (by Logger.With, at the top
// level) is dropped when it is attached again or given again on a log call: the first value
// stands. Attributes inside a group (after WithGroup) are passed through as they are.
func Once(h slog.Handler) slog.Handler {
	if _, ok := h.(*handler); ok {
		return h
	}
	return &handler{inner: h}
}

type handler struct {
	inner slog.Handler
	keys  map[string]bool // top-level keys attached by WithAttrs; never modified once shared
}

func (h *handler) Enabled(ctx context.Context, l slog.Level) bool { return h.inner.Enabled(ctx, l) }

func (h *handler) WithAttrs(as []slog.Attr) slog.Handler {
	keys := maps.Clone(h.keys)
	if keys == nil {
		keys = map[string]bool{}
	}
	keep := make([]slog.Attr, 0, len(as))
	for _, a := range as {
		if a.Key != "" && keys[a.Key] {
			continue
		}
		keys[a.Key] = true
		keep = append(keep, a)
	}
	return &handler{inner: h.inner.WithAttrs(keep), keys: keys}
}

// WithGroup returns the plain inner handler: keys inside a group cannot clash with the top level.
func (h *handler) WithGroup(name string) slog.Handler { return h.inner.WithGroup(name) }

func (h *handler) Handle(ctx context.Context, r slog.Record) error {
	dup := false
	r.Attrs(func(a slog.Attr) bool {
		dup = h.keys[a.Key]
		return !dup
	})
	if !dup {
		return h.inner.Handle(ctx, r)
	}
	out := slog.NewRecord(r.Time, r.Level, r.Message, r.PC)
	r.Attrs(func(a slog.Attr) bool {
		if !h.keys[a.Key] {
			out.AddAttrs(a)
		}
		return true
	})
	return h.inner.Handle(ctx, out)
}

// Interface guards.
var _ slog.Handler = (*handler)(nil)
