package logattr

import (
	"bytes"
	"log/slog"
	"testing"
)

func TestOnce(t *testing.T) {
	var buf bytes.Buffer
	plain := slog.NewTextHandler(&buf, &slog.HandlerOptions{ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
		if a.Key == slog.TimeKey {
			return slog.Attr{}
		}
		return a
	}})
	log := slog.New(Once(plain)).With("extension", "dev.a")
	log.With("extension", "dev.a").Info("one", "extension", "dev.a", "pid", 7)
	log.WithGroup("g").Info("two", "extension", "dev.a")
	log.With("other", 1).With("other", 2).Info("three")
	want := "level=INFO msg=one extension=dev.a pid=7\n" +
		"level=INFO msg=two extension=dev.a g.extension=dev.a\n" +
		"level=INFO msg=three extension=dev.a other=1\n"
	if got := buf.String(); got != want {
		t.Errorf("got\n%swant\n%s", got, want)
	}
}
