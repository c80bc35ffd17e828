package host

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/cairnfs/cairn/schemas/manifest"
)

// TestHostileConfigSchemaRef: a manifest's config schema that refers outside itself
// ("$ref": "file:///…") made the host read local files at load, and a FIFO there hung
// `cairn index` past SIGINT and SIGTERM. Loading now refuses every external reference
// without opening it.
func TestHostileConfigSchemaRef(t *testing.T) {
	fifo := filepath.Join(t.TempDir(), "fifo.json")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	for name, ref := range map[string]string{
		"fifo":   "file://" + fifo,
		"passwd": "file:///etc/passwd",
		"http":   "http://127.0.0.1:1/schema.json",
	} {
		t.Run(name, func(t *testing.T) {
			m := &manifest.Manifest{ID: "dev.test.refs", Config: map[string]any{
				"type":       "object",
				"properties": map[string]any{"x": map[string]any{"$ref": ref}},
			}}
			done := make(chan error, 1)
			go func() { done <- validateConfig(m, json.RawMessage(`{"x": 1}`)) }()
			select {
			case err := <-done:
				if err == nil || !strings.Contains(err.Error(), "only references inside the manifest") {
					t.Fatalf("config schema with $ref %s: %v; want it refused", ref, err)
				}
			case <-time.After(2 * time.Minute): // a refusal takes microseconds; a FIFO blocks forever
				t.Fatalf("validating a config schema with $ref %s did not return", ref)
			}
		})
	}
}
