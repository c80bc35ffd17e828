//go:build linux

package process

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/cairnfs/cairn/host/process/sandbox"
	"github.com/cairnfs/cairn/internal/testtool"
)

// callErr calls export and returns its error (nil when it succeeded).
func callErr(x *Extension, export, input string) (string, error) {
	out, err := x.Call(context.Background(), export, []byte(input))
	return string(out), err
}

// landlockSkip skips a subtest that needs Landlock ABI min when this kernel lacks it.
func landlockSkip(t *testing.T, st sandbox.Status, min int) {
	t.Helper()
	if !st.Available || st.ABI < min {
		t.Skipf("needs Landlock ABI %d; this kernel has ABI %d (%s): checked by TestSandboxWithoutLandlock instead", min, st.ABI, st.Reason)
	}
}

// TestHostileNativeSandbox runs the test extension as an attacker inside the sandbox: each
// subtest is one thing a native extension must not be able to do with the user's rights.
func TestHostileNativeSandbox(t *testing.T) {
	st := sandbox.Probe()
	t.Logf("this kernel: %+v", st)
	granted, outside := t.TempDir(), t.TempDir()
	writeFile(t, filepath.Join(granted, "granted.txt"), "granted")
	secret := filepath.Join(outside, ".ssh", "id_ed25519")
	writeFile(t, secret, "PRIVATE KEY")
	var logs logLines
	x := start(t, Config{Sandbox: &Sandbox{Trampoline: trampoline(t), Read: []string{granted}}, Logger: logs.logger()})
	if got := x.Process.Confinement(); got != st.Report("dev.test.plugin") || !logs.has(got) {
		t.Errorf("confinement %q, logged %q; want %q", got, logs.all(), st.Report("dev.test.plugin"))
	}

	t.Run("read-granted", func(t *testing.T) {
		if out, err := callErr(x, "read", filepath.Join(granted, "granted.txt")); err != nil || out != "granted" {
			t.Fatalf("reading a granted file: %q, %v", out, err)
		}
	})
	t.Run("read-outside-grant", func(t *testing.T) {
		landlockSkip(t, st, 1)
		if out, err := callErr(x, "read", secret); err == nil || !strings.Contains(err.Error(), "permission denied") {
			t.Fatalf("the extension read %s outside its grant: %q, %v", secret, out, err)
		}
	})
	t.Run("list-home", func(t *testing.T) {
		landlockSkip(t, st, 1)
		testtool.Need(t, "ls", "coreutils")
		if out, err := callErr(x, "exec", "ls -a "+outside); err == nil {
			t.Fatalf("the extension listed %s through ls: %q", outside, out)
		}
	})
	t.Run("write-outside-grant", func(t *testing.T) {
		landlockSkip(t, st, 1)
		for _, dir := range []string{outside, granted} {
			p := filepath.Join(dir, "planted")
			if _, err := callErr(x, "write", p); err == nil {
				t.Errorf("the extension wrote %s", p)
			}
			if _, err := os.Stat(p); err == nil {
				t.Errorf("%s exists", p)
			}
		}
	})
	t.Run("environ-of-host", func(t *testing.T) {
		landlockSkip(t, st, 1)
		p := fmt.Sprintf("/proc/%d/environ", os.Getpid())
		if out, err := callErr(x, "read", p); err == nil {
			t.Fatalf("the extension read the host's environment (%d bytes)", len(out))
		}
	})
	t.Run("no-new-privs", func(t *testing.T) {
		out, err := callErr(x, "read", "/proc/self/status")
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(out, "\nNoNewPrivs:\t1\n") {
			t.Fatalf("no_new_privs is not set:\n%s", out)
		}
		// And in what it starts: the flag is inherited.
		testtool.Need(t, "cat", "coreutils")
		out, err = callErr(x, "exec", "cat /proc/self/status")
		if err != nil || !strings.Contains(out, "\nNoNewPrivs:\t1\n") {
			t.Fatalf("a child of the extension: %v\n%s", err, out)
		}
	})
	t.Run("capabilities", func(t *testing.T) { // a host run as root must not hand its power over
		testtool.Need(t, "cat", "coreutils")
		out, err := callErr(x, "exec", "cat /proc/self/status")
		if err != nil {
			t.Fatal(err)
		}
		for _, set := range []string{"CapInh", "CapPrm", "CapEff", "CapAmb"} {
			if !strings.Contains(out, set+":\t0000000000000000\n") {
				t.Errorf("%s is not empty:\n%s", set, out)
			}
		}
		if os.Geteuid() == 0 && !strings.Contains(out, "CapBnd:\t0000000000000000\n") {
			t.Errorf("the bounding set is not empty:\n%s", out)
		}
	})
	t.Run("process-group", func(t *testing.T) {
		out, err := callErr(x, "ids", "")
		if err != nil {
			t.Fatal(err)
		}
		var pid, pgid, sid int
		if _, err := fmt.Sscan(out, &pid, &pgid, &sid); err != nil {
			t.Fatalf("ids %q: %v", out, err)
		}
		if pid != x.Process.PID() || pgid != pid || sid != pid {
			t.Fatalf("pid %d (host sees %d), pgid %d, sid %d: want a session and group of its own", pid, x.Process.PID(), pgid, sid)
		}
		// Joining the host's process group (to get its terminal's signals, or to leave its own
		// group that Close kills) crosses sessions: the kernel refuses.
		if _, err := callErr(x, "setpgid", fmt.Sprint(syscall.Getpgrp())); err == nil {
			t.Fatal("the extension joined the host's process group")
		}
		out, err = callErr(x, "ids", "")
		if err != nil || !strings.HasSuffix(out, fmt.Sprintf(" %d %d", pid, pid)) {
			t.Fatalf("ids after the attempt: %q, %v", out, err)
		}
	})
	t.Run("terminal", func(t *testing.T) {
		if out, err := callErr(x, "read", "/dev/tty"); err == nil {
			t.Fatalf("the extension opened a controlling terminal: %q", out)
		}
	})
	t.Run("signal-host", func(t *testing.T) {
		landlockSkip(t, st, 6)
		if _, err := callErr(x, "signal", fmt.Sprint(os.Getpid())); err == nil || !strings.Contains(err.Error(), "operation not permitted") {
			t.Fatalf("the extension may signal the host: %v", err)
		}
	})
	t.Run("tcp", func(t *testing.T) {
		landlockSkip(t, st, 4)
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close()
		if _, err := callErr(x, "dial", l.Addr().String()); err == nil {
			t.Fatal("the extension, not granted net, connected over TCP")
		}
	})
	t.Run("scratch", func(t *testing.T) {
		dir, err := callErr(x, "tmpdir", "")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := callErr(x, "write", filepath.Join(dir, "scratch")); err != nil {
			t.Fatalf("writing in its scratch folder %s: %v", dir, err)
		}
		if err := x.Close(); err != nil {
			t.Fatal(err)
		}
		if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
			t.Fatalf("the scratch folder %s outlived Close: %v", dir, err)
		}
	})
}

// TestHostileNativeEscape: helpers the extension starts outside its process group die with
// it. A helper in a process group of its own stays in the extension's session, which Close
// kills whole; leaving the session (setsid) is refused by the sandbox's seccomp filter.
func TestHostileNativeEscape(t *testing.T) {
	testtool.Need(t, "sleep", "coreutils")
	x := start(t, Config{Sandbox: &Sandbox{Trampoline: trampoline(t)}})
	var helpers []int
	t.Run("setsid", func(t *testing.T) {
		if runtime.GOARCH != "amd64" && runtime.GOARCH != "arm64" {
			t.Skip("no seccomp filter for setsid on " + runtime.GOARCH)
		}
		out, err := callErr(x, "detach", "setsid")
		if err == nil {
			var pid int
			fmt.Sscan(out, &pid)
			helpers = append(helpers, pid)
			t.Fatalf("a helper of the extension left its session (pid %d)", pid)
		}
		if !strings.Contains(err.Error(), "operation not permitted") {
			t.Fatalf("detach setsid: %v", err)
		}
	})
	t.Run("setpgid", func(t *testing.T) {
		out, err := callErr(x, "detach", "setpgid")
		if err != nil {
			t.Fatal(err)
		}
		var pid int
		if _, err := fmt.Sscan(out, &pid); err != nil || !alive(pid) {
			t.Fatalf("detach setpgid: %q, %v", out, err)
		}
		helpers = append(helpers, pid)
	})
	t.Cleanup(func() { // leave nothing behind when the test fails
		for _, pid := range helpers {
			if p, err := os.FindProcess(pid); err == nil && alive(pid) {
				_ = p.Kill()
			}
		}
	})
	if err := x.Close(); err != nil {
		t.Fatal(err)
	}
	for _, pid := range helpers {
		waitDead(t, pid, 5*time.Second)
	}
}

// TestSandboxWithoutLandlock takes the path of a kernel without Landlock: the host says
// plainly that the extension runs without a file system sandbox, and the extension still gets
// no_new_privs and its own session.
func TestSandboxWithoutLandlock(t *testing.T) {
	saved := probe
	probe = func() sandbox.Status { return sandbox.Status{Reason: "not supported by this kernel"} }
	t.Cleanup(func() { probe = saved })
	outside := t.TempDir()
	secret := filepath.Join(outside, "secret")
	writeFile(t, secret, "PRIVATE KEY")
	var logs logLines
	x := start(t, Config{Sandbox: &Sandbox{Trampoline: trampoline(t)}, Logger: logs.logger()})
	const want = "landlock: not supported by this kernel (ABI 0): native extension dev.test.plugin runs without a filesystem sandbox"
	if got := x.Process.Confinement(); got != want || !logs.has("WARN "+want) {
		t.Fatalf("confinement %q, logs %q; want %q at WARN", got, logs.all(), want)
	}
	// The report tells the truth: no Landlock, the file is readable.
	if out, err := callErr(x, "read", secret); err != nil || out != "PRIVATE KEY" {
		t.Fatalf("reading %s: %q, %v", secret, out, err)
	}
	if out, err := callErr(x, "read", "/proc/self/status"); err != nil || !strings.Contains(out, "\nNoNewPrivs:\t1\n") {
		t.Fatalf("no_new_privs is not set: %v\n%s", err, out)
	}
}

// TestHostileSandboxChecksum: the pin of the extension binary moved from go-plugin (which now
// checks the trampoline) into the trampoline; a replaced binary is still refused, at the first
// start and at a restart, with the same error.
func TestHostileSandboxChecksum(t *testing.T) {
	sb := &Sandbox{Trampoline: trampoline(t)}
	dir := t.TempDir()
	path := filepath.Join(dir, "plugin")
	orig, err := os.ReadFile(bin.plugin)
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, path, string(orig))
	sum, err := fileSHA256(path)
	if err != nil {
		t.Fatal(err)
	}
	replace := func(content []byte) {
		tmp := path + ".new"
		if err := os.WriteFile(tmp, content, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(tmp, path); err != nil {
			t.Fatal(err)
		}
	}
	tampered := append([]byte(string(orig)), 0)
	t.Run("start", func(t *testing.T) {
		replace(tampered)
		defer replace(orig)
		_, err := Start(context.Background(), Config{ID: "dev.test.tampered", Path: path, SHA256: sum, Sandbox: sb})
		if !errors.Is(err, ErrChecksumMismatch) || !strings.Contains(err.Error(), fmt.Sprintf("pinned %x", sum)) {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("restart", func(t *testing.T) {
		x := start(t, Config{Path: path, SHA256: sum, Sandbox: sb})
		replace(tampered)
		if _, err := x.Call(context.Background(), "crash", nil); !errors.Is(err, ErrCrashed) {
			t.Fatal(err)
		}
		_, err := x.Call(context.Background(), "echo", nil)
		if !errors.Is(err, ErrCrashed) || !errors.Is(err, ErrChecksumMismatch) {
			t.Fatalf("echo after tampering: %v", err)
		}
		replace(orig)
		waitFor(t, "a restart", func() bool { return x.Process.PID() != 0 })
		call(t, x, "echo", "")
	})
	t.Run("trampoline", func(t *testing.T) { // the trampoline itself is pinned at Launch
		tramp := filepath.Join(dir, "trampoline")
		b, err := os.ReadFile(trampoline(t))
		if err != nil {
			t.Fatal(err)
		}
		writeFile(t, tramp, string(b))
		x := start(t, Config{Sandbox: &Sandbox{Trampoline: tramp}})
		if err := os.WriteFile(tramp+".new", append(b, 0), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(tramp+".new", tramp); err != nil {
			t.Fatal(err)
		}
		if _, err := x.Call(context.Background(), "crash", nil); !errors.Is(err, ErrCrashed) {
			t.Fatal(err)
		}
		if _, err := x.Call(context.Background(), "echo", nil); !errors.Is(err, ErrChecksumMismatch) {
			t.Fatalf("echo after replacing the trampoline: %v", err)
		}
	})
}

func writeFile(t testing.TB, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o755); err != nil {
		t.Fatal(err)
	}
}

// logLines collects log records as "LEVEL message" lines.
type logLines struct {
	mu    sync.Mutex
	lines []string
}

func (l *logLines) logger() *slog.Logger {
	return slog.New(&captureHandler{fn: func(r slog.Record) {
		l.mu.Lock()
		l.lines = append(l.lines, r.Level.String()+" "+r.Message)
		l.mu.Unlock()
	}})
}

func (l *logLines) has(suffix string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, s := range l.lines {
		if strings.HasSuffix(s, suffix) {
			return true
		}
	}
	return false
}

func (l *logLines) all() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Join(l.lines, "\n")
}
