// Package benchpeer runs peer tools (find, fd) on a tree in the same run as Cairn's own
// measurements, so benchmarks report ratios rather than absolute times on a shared machine.
package benchpeer

import (
	"bufio"
	"context"
	"errors"
	"os"
	"os/exec"
	"syscall"
	"time"
)

// ErrNotInstalled means the tool is not on PATH.
var ErrNotInstalled = errors.New("not installed")

// Result is one measured run.
type Result struct {
	Tool    string
	Args    []string
	Wall    time.Duration
	Entries int   // output lines
	PeakRSS int64 // bytes
	Err     error
}

// Run runs a command, counting its output lines as they stream.
func Run(ctx context.Context, name string, args ...string) Result {
	r := Result{Tool: name, Args: args}
	path, err := exec.LookPath(name)
	if err != nil {
		r.Err = ErrNotInstalled
		return r
	}
	cmd := exec.CommandContext(ctx, path, args...)
	out, err := cmd.StdoutPipe()
	if err != nil {
		r.Err = err
		return r
	}
	start := time.Now()
	if err := cmd.Start(); err != nil {
		r.Err = err
		return r
	}
	sc := bufio.NewScanner(out)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		r.Entries++
	}
	r.Err = cmd.Wait()
	r.Wall = time.Since(start)
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		r.PeakRSS = ru.Maxrss * 1024
	}
	return r
}

// Find runs `find DIR -mindepth 1` (every entry below DIR, as cairn counts them).
func Find(ctx context.Context, dir string) Result { return Run(ctx, "find", dir, "-mindepth", "1") }

// Fd runs `fd -HI . DIR` (hidden and ignored files included), as fd or Debian's fdfind.
func Fd(ctx context.Context, dir string) Result {
	for _, name := range []string{"fd", "fdfind"} {
		if _, err := exec.LookPath(name); err == nil {
			return Run(ctx, name, "-HI", ".", dir)
		}
	}
	return Result{Tool: "fd", Err: ErrNotInstalled}
}

// SelfPeakRSS is this process's peak resident set, in bytes.
func SelfPeakRSS() int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return ru.Maxrss * 1024
}

// DropCaches asks the kernel to drop the page cache (root only), for cold-cache runs.
func DropCaches() error {
	syscall.Sync()
	return os.WriteFile("/proc/sys/vm/drop_caches", []byte("3\n"), 0o200)
}
