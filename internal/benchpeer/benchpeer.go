package benchpeer

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// ErrNotInstalled means the tool is not on PATH.
var ErrNotInstalled = errors.New("not installed")

// ErrNeedsRoot means DropCaches is not running as root.
var ErrNeedsRoot = errors.New("needs root")

// Result is one measured run (or the run Repeat picked).
type Result struct {
	Tool string   // the command as run (for Fd: "fd" or "fdfind")
	Args []string // its arguments
	Wall time.Duration
	// Entries is the number of output lines (a last line without a newline counts).
	Entries int
	// PeakRSS is the child's peak resident set in bytes (see the package documentation).
	PeakRSS int64
	// Err is ErrNotInstalled, the exit error (with the end of stderr), or the context's error.
	// Entries and Wall are still filled in for a run that exited with an error.
	Err error
	// Runs is the number of runs Repeat measured (1 for Run); Walls their wall times, in order.
	Runs  int
	Walls []time.Duration
}

// Run runs name with args, counting its output lines as they stream.
func Run(ctx context.Context, name string, args ...string) Result {
	r := Result{Tool: name, Args: args, Runs: 1}
	path, err := exec.LookPath(name)
	if err != nil {
		r.Err = fmt.Errorf("%s: %w", name, ErrNotInstalled)
		return r
	}
	cmd := exec.CommandContext(ctx, path, args...)
	out, err := cmd.StdoutPipe()
	if err != nil {
		r.Err = err
		return r
	}
	var stderr tail
	cmd.Stderr = &stderr
	parentPeak := SelfPeakRSS()
	start := time.Now()
	if err := cmd.Start(); err != nil {
		r.Err = fmt.Errorf("%s: %w", name, err)
		return r
	}
	hwm := sampleHWM(cmd.Process.Pid)
	n, readErr := countLines(out)
	waitErr := cmd.Wait()
	r.Wall = time.Since(start)
	sampled := hwm()
	r.Entries = n
	r.Walls = []time.Duration{r.Wall}
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		r.PeakRSS = ru.Maxrss * 1024
	}
	// rusage no higher than our own peak may be our peak, inherited through vfork (the kernel
	// records the exec'ing mm's high-water mark, which is ours): use the sample. Our peak is
	// read again now: it may have grown while the child started.
	if parentPeak = max(parentPeak, SelfPeakRSS()); r.PeakRSS <= parentPeak && sampled > 0 {
		r.PeakRSS = sampled
	}
	switch {
	case ctx.Err() != nil:
		r.Err = fmt.Errorf("%s: %w", name, ctx.Err())
	case waitErr != nil:
		r.Err = fmt.Errorf("%s: %w", name, waitErr)
		if s := strings.TrimSpace(stderr.String()); s != "" {
			r.Err = fmt.Errorf("%w: %s", r.Err, s)
		}
	case readErr != nil:
		r.Err = fmt.Errorf("%s: reading output: %w", name, readErr)
	}
	return r
}

// countLines counts newline-terminated lines, plus a last unterminated one, in fixed memory.
func countLines(rd io.Reader) (int, error) {
	buf := make([]byte, 256<<10)
	n, last := 0, byte('\n')
	for {
		k, err := rd.Read(buf)
		if k > 0 {
			n += bytes.Count(buf[:k], []byte{'\n'})
			last = buf[k-1]
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			return n, err
		}
	}
	if last != '\n' {
		n++
	}
	return n, nil
}

// sampleHWM polls /proc/PID/status for VmHWM until the returned function is called, which
// returns the highest value seen in bytes (0 if none). The first sample is taken before it
// returns, while the caller has not yet read the child's output: a child with more output than
// a pipe holds is then certainly still alive (blocked writing), however late the polling
// goroutine gets to run on a busy machine.
func sampleHWM(pid int) func() int64 {
	stop, done := make(chan struct{}), make(chan struct{})
	path := "/proc/" + strconv.Itoa(pid) + "/status"
	peak := readHWM(path)
	go func() {
		defer close(done)
		t := time.NewTicker(5 * time.Millisecond)
		defer t.Stop()
		for {
			if v := readHWM(path); v > peak {
				peak = v
			}
			select {
			case <-stop:
				return
			case <-t.C:
			}
		}
	}()
	return func() int64 {
		close(stop)
		<-done
		return peak
	}
}

func readHWM(path string) int64 {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0
	}
	const key = "\nVmHWM:"
	i := bytes.Index(b, []byte(key))
	if i < 0 {
		return 0 // gone, or a zombie
	}
	line, _, _ := bytes.Cut(b[i+len(key):], []byte{'\n'})
	f := strings.Fields(string(line))
	if len(f) != 2 || f[1] != "kB" {
		return 0
	}
	kb, _ := strconv.ParseInt(f[0], 10, 64)
	return kb * 1024
}

// tail keeps the last 4 KiB written to it.
type tail struct {
	mu  sync.Mutex
	buf []byte
}

func (t *tail) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = append(t.buf, p...)
	if len(t.buf) > 4096 {
		t.buf = append(t.buf[:0], t.buf[len(t.buf)-4096:]...)
	}
	return len(p), nil
}

func (t *tail) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return string(t.buf)
}

// Find runs `find DIR -mindepth 1`: every entry below DIR, one per line, symlinks not followed
// (-mindepth 1 leaves out DIR itself, as fd and Cairn do).
func Find(ctx context.Context, dir string) Result { return Run(ctx, "find", dir, "-mindepth", "1") }

// Fd runs `fdfind -HI . DIR` (Debian's name) or `fd -HI . DIR`: every entry below DIR, hidden
// and ignored ones included, symlinks not followed. A program named fd that is not fd-find
// (Debian's fd is the FDclone file manager) does not count; with neither, Err is
// ErrNotInstalled.
func Fd(ctx context.Context, dir string) Result {
	for _, name := range []string{"fdfind", "fd"} {
		if isFd(ctx, name) {
			return Run(ctx, name, "-HI", ".", dir)
		}
	}
	return Result{Tool: "fd", Args: []string{"-HI", ".", dir}, Err: fmt.Errorf("fd (fd-find): %w", ErrNotInstalled)}
}

// isFd reports whether name is fd-find: `name --version` prints "fd 8.7.0" or "fdfind 8.6.0".
func isFd(ctx context.Context, name string) bool {
	path, err := exec.LookPath(name)
	if err != nil {
		return false
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, path, "--version").Output()
	return err == nil && (bytes.HasPrefix(out, []byte("fd ")) || bytes.HasPrefix(out, []byte("fdfind ")))
}

// Pick selects which of several runs Repeat reports.
type Pick int

const (
	// Best is the fastest run.
	Best Pick = iota
	// Median is the median run by wall time (the lower middle one for an even count).
	Median
)

// Repeat calls run n times (at least once) and returns the run pick selects, with Runs and
// Walls covering every run and PeakRSS the highest of them. It stops at the first run with an
// error and returns that one; runs that disagree on Entries (the tree changed) are an error.
func Repeat(n int, pick Pick, run func() Result) Result {
	var rs []Result
	var walls []time.Duration
	var peak int64
	for i := 0; i < max(n, 1); i++ {
		r := run()
		walls = append(walls, r.Wall)
		peak = max(peak, r.PeakRSS)
		if r.Err == nil && len(rs) > 0 && r.Entries != rs[0].Entries {
			r.Err = fmt.Errorf("%s: %d entries in run %d, %d in run 1", r.Tool, r.Entries, i+1, rs[0].Entries)
		}
		if r.Err != nil {
			r.Runs, r.Walls = len(walls), walls
			return r
		}
		rs = append(rs, r)
	}
	slices.SortStableFunc(rs, func(a, b Result) int { return int(a.Wall - b.Wall) })
	r := rs[0]
	if pick == Median {
		r = rs[(len(rs)-1)/2]
	}
	r.Runs, r.Walls, r.PeakRSS = len(walls), walls, peak
	return r
}

// SelfPeakRSS is this process's peak resident set (getrusage RUSAGE_SELF), in bytes.
func SelfPeakRSS() int64 {
	var ru unix.Rusage
	if err := unix.Getrusage(unix.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return ru.Maxrss * 1024
}

// DropCaches writes back dirty pages and drops the page cache, dentries and inodes (`sync;
// echo 3 > /proc/sys/vm/drop_caches`), for cold-cache runs. It is best-effort: without root the
// error wraps ErrNeedsRoot; where /proc/sys is read-only (containers) it says so.
func DropCaches() error {
	if uid := os.Geteuid(); uid != 0 {
		return fmt.Errorf("benchpeer: dropping the page cache: %w (running as uid %d); cold-cache runs are not possible", ErrNeedsRoot, uid)
	}
	unix.Sync()
	f, err := os.OpenFile("/proc/sys/vm/drop_caches", os.O_WRONLY, 0)
	if err == nil {
		_, err = f.WriteString("3\n")
		if cerr := f.Close(); err == nil {
			err = cerr
		}
	}
	if err != nil {
		return fmt.Errorf("benchpeer: dropping the page cache: %w (needs root and a writable /proc/sys/vm/drop_caches, which containers usually mount read-only)", err)
	}
	return nil
}

// Ratio is a/b (how many times longer a took than b), or 0 if b is not positive.
func Ratio(a, b time.Duration) float64 {
	if b <= 0 {
		return 0
	}
	return float64(a) / float64(b)
}
