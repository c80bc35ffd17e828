package frame

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// fakeTool writes an executable shell script standing in for ffmpeg or pdftoppm.
func fakeTool(t *testing.T, script string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "pdftoppm")
	if err := os.WriteFile(p, []byte("#!/bin/sh\n"+script+"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestHostileToolOutput: a tool flooding its output (a crafted PDF made pdftoppm write 625 MB
// of stderr in 30 s) keeps at most the caps in memory and in the error, and a tool flooding
// stdout is stopped at the cap instead of running to its deadline.
func TestHostileToolOutput(t *testing.T) {
	t.Run("stderr-flood", func(t *testing.T) {
		tool := fakeTool(t, "head -c 67108864 /dev/zero | tr '\\0' x >&2; exit 1")
		_, err := run(context.Background(), 5*time.Minute, tool)
		if err == nil {
			t.Fatal("a failing tool gave no error")
		}
		if n := len(err.Error()); n > maxStderr+256 {
			t.Fatalf("the error holds %d bytes of stderr; the cap is %d", n, maxStderr)
		}
		if !strings.Contains(err.Error(), "truncated") {
			t.Errorf("the error does not say its stderr was truncated: %.200s", err)
		}
	})
	t.Run("stdout-flood", func(t *testing.T) {
		tool := fakeTool(t, "exec cat /dev/zero")
		_, err := run(context.Background(), 10*time.Minute, tool)
		if err == nil || !strings.Contains(err.Error(), "wrote more than") {
			t.Fatalf("a tool writing stdout without end: %v; want it stopped at the output cap", err)
		}
	})
}
