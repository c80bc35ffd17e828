package process

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cairnfs/cairn/host/ext"
	"github.com/cairnfs/cairn/host/process/sandbox"
)

// bin holds the test programs, built once per test binary from testdata/.
var bin struct {
	dir    string
	plugin string // testdata/plugin: the extension
	host   string // testdata/host: a host program for the orphan test
}

func TestMain(m *testing.M) {
	if sandbox.Main(os.Args[1:]) { // this test binary is the sandboxed tests' trampoline
		return
	}
	os.Exit(runTests(m))
}

func runTests(m *testing.M) int {
	dir, err := os.MkdirTemp("", "cairn-process-test")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	gobin := filepath.Join(runtime.GOROOT(), "bin", "go")
	if _, err := os.Stat(gobin); err != nil {
		gobin = "go"
	}
	build := exec.Command(gobin, "build", "-o", dir+string(filepath.Separator), "./testdata/plugin", "./testdata/host")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "building the test programs:", err)
		return 1
	}
	bin.dir = dir
	bin.plugin = filepath.Join(dir, "plugin")
	bin.host = filepath.Join(dir, "host")
	return m.Run()
}

// fakeABI is a small in-memory host ABI: log, kv.get, kv.set, probe (answers the value of
// probeKey in the call's context and whether it has a deadline); everything else is denied.
// Canned answers (by request JSON) take precedence.
type fakeABI struct {
	mu       sync.Mutex
	kv       map[string][]byte
	logs     []string
	requests [][]byte
	canned   map[string][]byte
}

type probeKey struct{}

func newFakeABI() *fakeABI { return &fakeABI{kv: map[string][]byte{}, canned: map[string][]byte{}} }

func (f *fakeABI) Dispatch(ctx context.Context, extID string, request []byte) []byte {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.requests = append(f.requests, bytes.Clone(request))
	if resp, ok := f.canned[canon(request)]; ok {
		return resp
	}
	var req struct {
		Fn   string `json:"fn"`
		Args struct {
			Key   string `json:"key"`
			Value []byte `json:"value"`
			Msg   string `json:"msg"`
		} `json:"args"`
	}
	if err := json.Unmarshal(request, &req); err != nil {
		return errorResponse("invalid_argument", err.Error())
	}
	ok := func(v any) []byte {
		b, _ := json.Marshal(map[string]any{"ok": v})
		return b
	}
	switch req.Fn {
	case "log":
		f.logs = append(f.logs, extID+": "+req.Args.Msg)
		return ok(nil)
	case "kv.set":
		f.kv[extID+"/"+req.Args.Key] = req.Args.Value
		return ok(nil)
	case "kv.get":
		v, found := f.kv[extID+"/"+req.Args.Key]
		if !found {
			return ok(map[string]any{"value": nil})
		}
		return ok(map[string]any{"value": v})
	case "probe":
		_, hasDeadline := ctx.Deadline()
		return ok(map[string]any{"value": ctx.Value(probeKey{}), "deadline": hasDeadline})
	}
	return errorResponse("capability_denied", extID+": "+req.Fn+" is not granted")
}

// canon re-encodes JSON so that equal documents compare equal.
func canon(b []byte) string {
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		return string(b)
	}
	out, _ := json.Marshal(v)
	return string(out)
}

// trampoline is this test binary: its TestMain runs sandbox.Main.
func trampoline(t testing.TB) string {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	return exe
}

// start starts the test plugin with a test-sized config, sandboxed as the host runs native
// extensions (tests that call Start themselves run it without the sandbox).
func start(t testing.TB, cfg Config) *Extension {
	t.Helper()
	if cfg.Sandbox == nil {
		cfg.Sandbox = &Sandbox{Trampoline: trampoline(t)}
	}
	if cfg.ID == "" {
		cfg.ID = "dev.test.plugin"
	}
	if cfg.Path == "" {
		cfg.Path = bin.plugin
	}
	if cfg.Dispatcher == nil {
		cfg.Dispatcher = newFakeABI()
	}
	if cfg.Limits.MaxConsecutiveFaults == 0 {
		cfg.Limits.MaxConsecutiveFaults = 100
	}
	if cfg.Limits.Timeout == 0 {
		cfg.Limits.Timeout = 20 * time.Second
	}
	if cfg.Backoff.Initial == 0 {
		cfg.Backoff = Backoff{Initial: 20 * time.Millisecond, Max: 80 * time.Millisecond, StableAfter: time.Hour}
	}
	x, err := Start(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := x.Close(); err != nil {
			t.Error(err)
		}
	})
	return x
}

func call(t testing.TB, x *Extension, export, input string) string {
	t.Helper()
	out, err := x.Call(context.Background(), export, []byte(input))
	if err != nil {
		t.Fatalf("%s: %v", export, err)
	}
	return string(out)
}

func pidOf(t testing.TB, x *Extension) int {
	t.Helper()
	pid, err := strconv.Atoi(call(t, x, "pid", ""))
	if err != nil {
		t.Fatal(err)
	}
	return pid
}

// alive reports whether pid is a live process (a zombie is dead: nobody may reap orphans here).
func alive(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	i := bytes.LastIndexByte(b, ')')
	if i < 0 || i+2 >= len(b) {
		return false
	}
	state := b[i+2]
	return state != 'Z' && state != 'X'
}

// waitDead polls until pid is gone.
func waitDead(t testing.TB, pid int, within time.Duration) {
	t.Helper()
	for end := time.Now().Add(within); time.Now().Before(end); time.Sleep(20 * time.Millisecond) {
		if !alive(pid) {
			return
		}
	}
	t.Fatalf("process %d is still alive after %s", pid, within)
}

// waitFor polls cond.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	for end := time.Now().Add(10 * time.Second); time.Now().Before(end); time.Sleep(10 * time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatalf("timed out waiting for %s", what)
}

func TestRoundTrip(t *testing.T) {
	abi := newFakeABI()
	x := start(t, Config{Dispatcher: abi})
	if got := call(t, x, "echo", `{"a":1}`); got != `{"a":1}` {
		t.Fatalf("echo = %q", got)
	}
	// kv: log, kv.set, kv.get through the host, from inside the export.
	if got := call(t, x, "kv", "hello"); got != "hello" {
		t.Fatalf("kv = %q", got)
	}
	if got := abi.kv["dev.test.plugin/k"]; string(got) != "hello" {
		t.Fatalf("stored %q", got)
	}
	if len(abi.logs) != 1 || abi.logs[0] != "dev.test.plugin: kv export" {
		t.Fatalf("logs = %q", abi.logs)
	}
	if s := x.Process.Stats(); s.HostCalls != 3 || s.Starts != 1 || s.PID != pidOf(t, x) {
		t.Fatalf("stats = %+v", s)
	}
	// A denied host call is a typed error in the extension, with its code.
	out := call(t, x, "relay", `{"fn":"content.read","args":{"entry_id":1,"offset":0,"length":1}}`)
	if !strings.Contains(out, `"code":"capability_denied"`) {
		t.Fatalf("relay = %s", out)
	}
}

// go-plugin's broker forgets a connection offer nobody dialled within 5 s: a first host call
// made later than that still works.
func TestLateFirstHostCall(t *testing.T) {
	if testing.Short() {
		t.Skip("takes 6 s")
	}
	x := start(t, Config{})
	call(t, x, "echo", "")
	time.Sleep(time.Second)
	if got := call(t, x, "late", "5500ms"); got != `{"value":null}` {
		t.Fatalf("late = %s", got)
	}
}

func TestHostCallContext(t *testing.T) {
	x := start(t, Config{})
	ctx, cancel := context.WithTimeout(context.WithValue(context.Background(), probeKey{}, "job-7"), 10*time.Second)
	defer cancel()
	out, err := x.Call(ctx, "relay", []byte(`{"fn":"probe"}`))
	if err != nil {
		t.Fatal(err)
	}
	if canon(out) != `{"ok":{"deadline":true,"value":"job-7"}}` {
		t.Fatalf("probe = %s", out)
	}
}

func TestGuestErrors(t *testing.T) {
	x := start(t, Config{Limits: ext.Limits{MaxConsecutiveFaults: 2}})
	pid := pidOf(t, x)
	for range 3 { // more than MaxConsecutiveFaults: none of these is a fault
		if _, err := x.Call(context.Background(), "fail", nil); !errors.Is(err, ErrGuest) || !strings.Contains(err.Error(), "no thanks") {
			t.Fatalf("fail: %v", err)
		}
		_, err := x.Call(context.Background(), "panic", nil)
		if !errors.Is(err, ErrGuest) || !strings.Contains(err.Error(), "panic: boom in the export") {
			t.Fatalf("panic: %v", err)
		}
		if _, err := x.Call(context.Background(), "nope", nil); !errors.Is(err, ErrNoExport) {
			t.Fatalf("nope: %v", err)
		}
	}
	if x.Disabled() || pidOf(t, x) != pid || x.Process.Stats().Crashes != 0 {
		t.Fatalf("disabled %v, pid %d→%d, stats %+v", x.Disabled(), pid, pidOf(t, x), x.Process.Stats())
	}
}

func TestCrashRestart(t *testing.T) {
	x := start(t, Config{})
	crash := func(export, want string) int {
		t.Helper()
		pid := pidOf(t, x)
		_, err := x.Call(context.Background(), export, nil)
		if !errors.Is(err, ErrCrashed) || !errors.Is(err, ext.ErrTrap) || !strings.Contains(err.Error(), want) {
			t.Fatalf("%s: %v", export, err)
		}
		waitDead(t, pid, 5*time.Second)
		// The next call waits for the restart and works.
		if got := call(t, x, "echo", "again"); got != "again" {
			t.Fatalf("echo after restart = %q", got)
		}
		if now := pidOf(t, x); now == pid {
			t.Fatalf("still pid %d", pid)
		}
		return pid
	}
	crash("crash", "exit status 3; stderr: error: crashing on purpose")
	crash("crash_goroutine", "panic: boom on another goroutine")
	crash("crash", "exit status 3")
	crash("crash", "exit status 3")
	s := x.Process.Stats()
	// 20 ms, 40 ms, 80 ms, 80 ms (the cap): the backoff of the last restart is the cap.
	if s.Crashes != 4 || s.Starts != 5 || s.LastBackoff != 80*time.Millisecond || s.Kills != 0 {
		t.Fatalf("stats = %+v", s)
	}
	if st := x.Stats(); st.Traps != 4 || st.Disabled {
		t.Fatalf("ext stats = %+v", st)
	}
}

func TestBackoffResetsWhenStable(t *testing.T) {
	x := start(t, Config{Backoff: Backoff{Initial: 20 * time.Millisecond, Max: time.Second, StableAfter: time.Nanosecond}})
	for range 3 {
		if _, err := x.Call(context.Background(), "crash", nil); !errors.Is(err, ErrCrashed) {
			t.Fatal(err)
		}
		call(t, x, "echo", "")
		if s := x.Process.Stats(); s.LastBackoff != 20*time.Millisecond {
			t.Fatalf("stats = %+v", s)
		}
	}
}

func TestDeadline(t *testing.T) {
	x := start(t, Config{Grace: 300 * time.Millisecond})
	pid := pidOf(t, x)

	// An export that honours its context: the call fails with ErrDeadline, nothing is killed.
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	_, err := x.Call(ctx, "slow", nil)
	cancel()
	if !errors.Is(err, ErrDeadline) {
		t.Fatalf("slow: %v", err)
	}
	time.Sleep(400 * time.Millisecond) // past the grace period
	if s := x.Process.Stats(); s.Kills != 0 || pidOf(t, x) != pid {
		t.Fatalf("slow: stats %+v", s)
	}

	// An export that ignores it: the call fails at its deadline, the process is killed after
	// the grace period and restarted.
	ctx, cancel = context.WithTimeout(context.Background(), 100*time.Millisecond)
	begin := time.Now()
	_, err = x.Call(ctx, "hang", nil)
	cancel()
	if !errors.Is(err, ErrDeadline) || time.Since(begin) > 2*time.Second {
		t.Fatalf("hang: %v after %s", err, time.Since(begin))
	}
	waitFor(t, "the hung process to be killed", func() bool { return x.Process.Stats().Kills == 1 })
	waitDead(t, pid, 5*time.Second)
	if got := call(t, x, "echo", "alive"); got != "alive" || pidOf(t, x) == pid {
		t.Fatalf("after restart: %q", got)
	}
	if s := x.Process.Stats(); s.Crashes != 0 || s.Starts != 2 {
		t.Fatalf("stats = %+v", s)
	}

	// A caller that cancels cancels the export; it is not a fault.
	ctx, cancel = context.WithCancel(context.Background())
	time.AfterFunc(50*time.Millisecond, cancel)
	if _, err := x.Call(ctx, "slow", nil); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled: %v", err)
	}
}

func TestOutputCap(t *testing.T) {
	x := start(t, Config{Limits: ext.Limits{MaxOutput: 4096}})
	pid := pidOf(t, x)
	if _, err := x.Call(context.Background(), "big", []byte("100000")); !errors.Is(err, ErrOutputTooLarge) {
		t.Fatalf("big: %v", err)
	}
	if got := call(t, x, "big", "4000"); len(got) != 4000 {
		t.Fatalf("len = %d", len(got))
	}
	if pidOf(t, x) != pid {
		t.Fatal("the process was replaced")
	}
}

func TestDisable(t *testing.T) {
	x := start(t, Config{Limits: ext.Limits{MaxConsecutiveFaults: 2}})
	for range 2 {
		if _, err := x.Call(context.Background(), "crash", nil); !errors.Is(err, ErrCrashed) {
			t.Fatal(err)
		}
	}
	if _, err := x.Call(context.Background(), "echo", nil); !errors.Is(err, ErrDisabled) {
		t.Fatalf("echo while disabled: %v", err)
	}
	waitFor(t, "the process to stop", func() bool { return x.Process.PID() == 0 })
	x.Enable()
	if got := call(t, x, "echo", "back"); got != "back" {
		t.Fatalf("echo = %q", got)
	}
}

func TestChecksum(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "plugin")
	orig, err := os.ReadFile(bin.plugin)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, orig, 0o755); err != nil {
		t.Fatal(err)
	}
	sum, err := fileSHA256(path)
	if err != nil {
		t.Fatal(err)
	}
	replace := func(content []byte) { // as an attacker or a broken update would: a new file
		tmp := path + ".new"
		if err := os.WriteFile(tmp, content, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(tmp, path); err != nil {
			t.Fatal(err)
		}
	}
	tampered := append(bytes.Clone(orig), 0)

	t.Run("start", func(t *testing.T) {
		replace(tampered)
		defer replace(orig)
		_, err := Start(context.Background(), Config{ID: "dev.test.tampered", Path: path, SHA256: sum})
		if !errors.Is(err, ErrChecksumMismatch) || !strings.Contains(err.Error(), fmt.Sprintf("pinned %x", sum)) {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("restart", func(t *testing.T) {
		x := start(t, Config{Path: path, SHA256: sum})
		replace(tampered)
		if _, err := x.Call(context.Background(), "crash", nil); !errors.Is(err, ErrCrashed) {
			t.Fatal(err)
		}
		_, err := x.Call(context.Background(), "echo", nil)
		if !errors.Is(err, ErrCrashed) || !errors.Is(err, ErrChecksumMismatch) {
			t.Fatalf("echo after tampering: %v", err)
		}
		if s := x.Process.Stats(); s.StartFailures == 0 || s.PID != 0 {
			t.Fatalf("stats = %+v", s)
		}
		replace(orig) // restored: the next attempt starts it again
		waitFor(t, "a restart", func() bool { return x.Process.PID() != 0 })
		call(t, x, "echo", "")
	})
}

func TestCloseKillsProcessGroup(t *testing.T) {
	x, err := Start(context.Background(), Config{ID: "dev.test.group", Path: bin.plugin, Dispatcher: newFakeABI()})
	if err != nil {
		t.Fatal(err)
	}
	pid := pidOf(t, x)
	child, err := strconv.Atoi(call(t, x, "spawn", ""))
	if err != nil {
		t.Fatal(err)
	}
	if !alive(child) {
		t.Fatal("the extension's child is not running")
	}
	if err := x.Close(); err != nil {
		t.Fatal(err)
	}
	if alive(pid) {
		t.Fatalf("extension process %d is alive after Close", pid)
	}
	waitDead(t, child, 2*time.Second)
	if _, err := x.Call(context.Background(), "echo", nil); !errors.Is(err, ErrClosed) {
		t.Fatalf("after Close: %v", err)
	}
}

// A goroutine that ends while locked to its thread terminates that thread. If that were the
// thread that forked the extension, Pdeathsig would kill the extension.
func TestThreadExitKeepsExtension(t *testing.T) {
	x := start(t, Config{})
	pid := pidOf(t, x)
	var wg sync.WaitGroup
	for range 32 {
		wg.Go(func() {
			runtime.LockOSThread() // never unlocked: the thread exits with the goroutine
			time.Sleep(time.Millisecond)
		})
	}
	wg.Wait()
	time.Sleep(50 * time.Millisecond)
	if !alive(pid) || pidOf(t, x) != pid {
		t.Fatal("the extension died with a thread of the host")
	}
}

func TestOrphanOnHostKill(t *testing.T) {
	if !hasPdeathsig {
		t.Skip("no parent-death signal on " + runtime.GOOS)
	}
	host := exec.Command(bin.host, bin.plugin)
	host.Stderr = os.Stderr
	out, err := host.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := host.Start(); err != nil {
		t.Fatal(err)
	}
	defer host.Process.Kill()
	line := make(chan string, 1)
	go func() {
		s, _ := bufio.NewReader(out).ReadString('\n')
		line <- s
	}()
	var pid int
	select {
	case s := <-line:
		if pid, err = strconv.Atoi(strings.TrimSpace(s)); err != nil {
			t.Fatalf("host program printed %q", s)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("host program printed no pid")
	}
	if !alive(pid) {
		t.Fatalf("extension %d is not running", pid)
	}
	t.Cleanup(func() { // leave no orphan behind when the test fails
		if p, err := os.FindProcess(pid); err == nil && alive(pid) {
			_ = p.Kill()
		}
	})
	if err := host.Process.Signal(os.Kill); err != nil {
		t.Fatal(err)
	}
	_ = host.Wait()
	waitDead(t, pid, 5*time.Second)
}

func TestLogs(t *testing.T) {
	var mu sync.Mutex
	var records []slog.Record
	h := &captureHandler{fn: func(r slog.Record) {
		mu.Lock()
		records = append(records, r)
		mu.Unlock()
	}}
	x := start(t, Config{Logger: slog.New(h)})
	call(t, x, "log", "x")
	waitFor(t, "the plugin's log line", func() bool {
		mu.Lock()
		defer mu.Unlock()
		for _, r := range records {
			if r.Message == "a warning from the plugin" && r.Level == slog.LevelWarn {
				var input string
				r.Attrs(func(a slog.Attr) bool {
					if a.Key == "input" {
						input = a.Value.String()
					}
					return true
				})
				return input == "x"
			}
		}
		return false
	})
}

type captureHandler struct {
	fn    func(slog.Record)
	attrs []slog.Attr
}

func (h *captureHandler) Enabled(context.Context, slog.Level) bool { return true }
func (h *captureHandler) Handle(_ context.Context, r slog.Record) error {
	r = r.Clone()
	r.AddAttrs(h.attrs...)
	h.fn(r)
	return nil
}
func (h *captureHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return &captureHandler{fn: h.fn, attrs: append(append([]slog.Attr(nil), h.attrs...), as...)}
}
func (h *captureHandler) WithGroup(string) slog.Handler { return h }
