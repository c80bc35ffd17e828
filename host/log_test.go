package host_test

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"

	"github.com/cairnfs/cairn/host"
	"github.com/cairnfs/cairn/host/capability"
	"github.com/cairnfs/cairn/host/internal/hosttest"
	"github.com/cairnfs/cairn/schemas/manifest"
)

// syncBuffer is a log sink for concurrent writers.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestLogLinesNameTheExtensionOnce: the host gives each extension's logger an "extension"
// attribute, and the process host (lifecycle lines) and the fault tracker (fault lines) name the
// extension too; every line must carry the key once.
func TestLogLinesNameTheExtensionOnce(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a native extension")
	}
	var buf syncBuffer
	lib := hosttest.NewLibrary(t, map[string]map[string]string{"public": {"a.txt": "alpha"}})
	h, err := host.New(host.Config{Store: lib.Store, LibraryDir: lib.Dir, DeviceID: lib.DeviceID, CacheDir: hosttest.CacheDir(t),
		Logger: slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close(context.Background()) })
	w := &world{lib: lib, h: h, public: lib.Locations["public"].UUID}
	native := loadHelloNative(t, w) // a process extension: "extension process started"
	x, err := h.Load(context.Background(), host.Spec{
		Manifest: manifestFor("dev.test.hostile.log", map[string]manifest.Scope{"kv": {}}),
		Wasm:     hosttest.Guest(t, "hostile"),
		Grant:    capability.Grant{"kv": {}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := call(x, "crash", ""); err == nil { // a WASM fault: "extension fault"
		t.Fatal("crash did not fail")
	}
	if err := h.Unload(context.Background(), native.Manifest.ID); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	for _, want := range []string{"extension process started", "extension fault"} {
		if !strings.Contains(out, want) {
			t.Errorf("no %q line in the log:\n%s", want, out)
		}
	}
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		if n := strings.Count(line, " extension="); n > 1 {
			t.Errorf("extension= %d times: %s", n, line)
		}
	}
}
