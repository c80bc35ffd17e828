//go:build unix

package cas

import (
	"context"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// TestHostileNotRegularFIFO checks that a FIFO is refused without waiting for a writer.
func TestHostileNotRegularFIFO(t *testing.T) {
	p := filepath.Join(t.TempDir(), "fifo")
	if err := syscall.Mkfifo(p, 0o600); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	if _, _, err := NewSampler().SumFile(p); err == nil || !strings.Contains(err.Error(), "not a regular file") {
		t.Errorf("SumFile(fifo) err = %v, want 'not a regular file'", err)
	}
	if _, _, err := FullHashFile(context.Background(), p); err == nil || !strings.Contains(err.Error(), "not a regular file") {
		t.Errorf("FullHashFile(fifo) err = %v, want 'not a regular file'", err)
	}
}
