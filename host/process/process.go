package process

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cairnfs/cairn/host/ext"
	"github.com/cairnfs/cairn/schemas/pluginwire"
	goplugin "github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/wrapperspb"
)

// Dispatcher answers the host ABI calls of extensions (schemas/hostabi/v1.md): request is a
// Request's JSON, the result a Response's JSON. extID is the calling extension's id as the host
// configured it (never what the extension claims). ctx carries the values of the export call the
// host call was made for, and is done when that call or the host call is.
type Dispatcher interface {
	Dispatch(ctx context.Context, extID string, request []byte) []byte
}

// DispatcherFunc adapts a function to Dispatcher.
type DispatcherFunc func(ctx context.Context, extID string, request []byte) []byte

// Dispatch calls f.
func (f DispatcherFunc) Dispatch(ctx context.Context, extID string, request []byte) []byte {
	return f(ctx, extID, request)
}

// Backoff is the restart policy: the first restart waits Initial, each following one twice as
// long up to Max; a process that ran StableAfter or longer before it crashed restarts after
// Initial again. Start failures back off the same way.
type Backoff struct {
	Initial     time.Duration // default 100 ms
	Max         time.Duration // default 10 s
	StableAfter time.Duration // default 1 min
}

// Config describes a native extension. Zero fields take the defaults.
type Config struct {
	// ID is the extension's id (reverse-DNS), given to the dispatcher and the logs.
	ID string
	// Path is the extension's binary; Args its arguments; Dir its working directory.
	Path string
	Args []string
	Dir  string
	// Env is added to the child's environment, which otherwise holds only PATH, HOME, TMPDIR,
	// the locale and TZ (the host's environment is not inherited: it may hold secrets).
	Env []string
	// SHA256 pins the binary. Nil pins what the binary is when Launch hashes it. Every start,
	// restarts included, refuses a binary that does not match (ErrChecksumMismatch).
	SHA256 []byte
	// Exports lists the export names (from the manifest) for HasExport; nil answers true for
	// every name, and a call of a missing export fails with ErrNoExport.
	Exports []string
	// Dispatcher answers host ABI calls; nil answers every one with "unavailable".
	Dispatcher Dispatcher
	// Limits are the per-call limits (Start gives them to ext.Extension; Launch uses MaxOutput).
	Limits ext.Limits
	// Grace is how long an export may take to return after its call's deadline before the host
	// kills the process as hung (default 2 s).
	Grace time.Duration
	// MaxConcurrent bounds the calls in flight, counting those past their deadline whose
	// export has not returned yet (default 2×GOMAXPROCS, at least 4).
	MaxConcurrent int
	// StartTimeout bounds each start: exec, handshake, mTLS (default 10 s).
	StartTimeout time.Duration
	// Backoff is the restart policy.
	Backoff Backoff
	// Logger receives the process's lifecycle and its stderr; nil discards.
	Logger *slog.Logger
	// Sandbox confines the process on Linux (nil: it runs with the user's rights).
	Sandbox *Sandbox
}

// Sandbox confines an extension's process on Linux (package sandbox): the host runs
// Trampoline, which checks the binary against the pinned SHA-256, sets no_new_privs, restricts
// itself with Landlock where the kernel has it, and executes the binary. The process gets a
// private scratch folder as its TMPDIR and HOME, removed by Close.
type Sandbox struct {
	// Trampoline is an executable whose main calls sandbox.Main first (the cairn binary). It is
	// pinned to its SHA-256 when Launch runs, like the extension binary.
	Trampoline string
	// Read lists the files and folders the extension may read besides the baseline (its
	// content.read locations).
	Read []string
	// Net leaves TCP open (the extension holds the net capability).
	Net bool
}

// Defaults.
const (
	DefaultGrace        = 2 * time.Second
	DefaultStartTimeout = 10 * time.Second
	DefaultBackoff      = 100 * time.Millisecond
	DefaultBackoffMax   = 10 * time.Second
	DefaultStableAfter  = time.Minute
)

// MaxHostRequest is the largest host call the host accepts from an extension, in bytes (the
// host ABI's own request limit is 24 MiB).
const MaxHostRequest = 25 << 20

func (c Config) withDefaults() Config {
	if c.Grace <= 0 {
		c.Grace = DefaultGrace
	}
	if c.MaxConcurrent <= 0 {
		c.MaxConcurrent = max(4, 2*runtime.GOMAXPROCS(0))
	}
	if c.StartTimeout <= 0 {
		c.StartTimeout = DefaultStartTimeout
	}
	if c.Backoff.Initial <= 0 {
		c.Backoff.Initial = DefaultBackoff
	}
	if c.Backoff.Max <= 0 {
		c.Backoff.Max = DefaultBackoffMax
	}
	c.Backoff.Max = max(c.Backoff.Max, c.Backoff.Initial)
	if c.Backoff.StableAfter <= 0 {
		c.Backoff.StableAfter = DefaultStableAfter
	}
	if c.Limits.MaxOutput <= 0 {
		c.Limits.MaxOutput = ext.DefaultMaxOutput
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c
}

// Stats are a process's counters since Launch.
type Stats struct {
	PID           int           // the running process, 0 when none runs
	Starts        uint64        // successful starts, the first included
	StartFailures uint64        // starts that failed (checksum, exec, handshake)
	Crashes       uint64        // exits the host did not ask for
	Kills         uint64        // processes killed because an export ignored its deadline
	LastBackoff   time.Duration // the delay before the latest restart attempt
	HostCalls     uint64        // host ABI calls answered
}

// Process runs one native extension binary as a child process and calls its exports. It
// implements ext.Runner (and ext.Idler): Start wraps it in an ext.Extension. It is safe for
// concurrent use.
type Process struct {
	id   string
	cfg  Config
	path string
	sum  []byte
	env  []string
	// exe, args and exeSum are the command that starts the process: the binary itself, or the
	// sandbox's trampoline.
	exe     string
	args    []string
	exeSum  []byte
	scratch string // the sandbox's scratch folder, removed by Close
	report  string // what confines the process (Confinement)
	log     *slog.Logger
	sem     chan struct{}
	calls   atomic.Uint64 // call ids
	// inflight maps call ids to the contexts of the calls, for host calls made on their behalf.
	inflight  sync.Map
	hostCalls atomic.Uint64

	mu          sync.Mutex
	cur         *instance
	ready       chan struct{} // closed and replaced whenever cur, closed or a start attempt changes
	closed      bool
	stopped     bool // DropIdle: no restarts until the next call
	timer       *time.Timer
	pending     bool // a start attempt is scheduled or running
	attempts    sync.WaitGroup
	nextAttempt time.Time
	lastErr     error // why there is no process (wraps ErrCrashed)
	backoff     time.Duration
	stats       Stats
}

// Launch starts the extension's process and returns once it answered the handshake. It fails
// with ErrChecksumMismatch when the binary is not the pinned one.
func Launch(ctx context.Context, cfg Config) (*Process, error) {
	cfg = cfg.withDefaults()
	if cfg.ID == "" || cfg.Path == "" {
		return nil, errors.New("launching an extension process: id and path are required")
	}
	path, err := filepath.Abs(cfg.Path)
	if err != nil {
		return nil, fmt.Errorf("launching %s: %w", cfg.ID, err)
	}
	sum := slices.Clone(cfg.SHA256)
	if sum == nil {
		if sum, err = fileSHA256(path); err != nil {
			return nil, fmt.Errorf("launching %s: %w", cfg.ID, err)
		}
	}
	p := &Process{
		id:      cfg.ID,
		cfg:     cfg,
		path:    path,
		sum:     sum,
		env:     childEnv(cfg.Env),
		log:     cfg.Logger.With("extension", cfg.ID),
		sem:     make(chan struct{}, cfg.MaxConcurrent),
		ready:   make(chan struct{}),
		backoff: cfg.Backoff.Initial,
		exe:     path,
		args:    cfg.Args,
		exeSum:  sum,
	}
	if cfg.Sandbox != nil {
		if err := p.sandbox(); err != nil {
			p.removeScratch()
			return nil, fmt.Errorf("launching %s: %w", cfg.ID, err)
		}
	}
	inst, err := p.launch(ctx)
	if err != nil {
		p.removeScratch()
		return nil, fmt.Errorf("launching %s: %w", cfg.ID, err)
	}
	p.mu.Lock()
	p.cur = inst
	p.stats.Starts++
	p.mu.Unlock()
	go inst.watch()
	return p, nil
}

// ID is the extension's id.
func (p *Process) ID() string { return p.id }

// SHA256 is the pinned checksum of the binary.
func (p *Process) SHA256() []byte { return slices.Clone(p.sum) }

// PID is the running process's id, 0 when none runs.
func (p *Process) PID() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cur == nil {
		return 0
	}
	return p.cur.pid
}

// Stats returns the process's counters.
func (p *Process) Stats() Stats {
	p.mu.Lock()
	s := p.stats
	if p.cur != nil {
		s.PID = p.cur.pid
	}
	p.mu.Unlock()
	s.HostCalls = p.hostCalls.Load()
	return s
}

// HasExport reports whether Config.Exports lists name (true for any name without the list).
func (p *Process) HasExport(name string) bool {
	return p.cfg.Exports == nil || slices.Contains(p.cfg.Exports, name)
}

// Run calls export with input and returns its output. Its errors wrap the sentinels of host/ext
// (ErrDeadline, ErrOutputTooLarge, ErrGuest, ErrNoExport, ErrClosed) or ErrCrashed.
//
// At ctx's deadline Run fails with ErrDeadline; the export's context is done at the same time.
// An export that has not returned Config.Grace later is taken as hung: the process is killed
// (its other calls fail with ErrCrashed) and restarted. A caller that cancels ctx cancels the
// export's context at once.
func (p *Process) Run(ctx context.Context, export string, input []byte) ([]byte, error) {
	if len(input) > pluginwire.MaxInput-1024 {
		return nil, fmt.Errorf("%w: %d bytes, limit %d", ErrInputTooLarge, len(input), pluginwire.MaxInput-1024)
	}
	select {
	case p.sem <- struct{}{}:
	case <-ctx.Done():
		return nil, fmt.Errorf("%w: waiting for a free call slot: %w", ErrDeadline, ctx.Err())
	}
	inst, err := p.instance(ctx)
	if err != nil {
		<-p.sem
		return nil, err
	}
	return p.call(ctx, inst, export, input) // gives the slot back when the RPC ends
}

type result struct {
	out []byte
	err error
}

func (p *Process) call(ctx context.Context, inst *instance, export string, input []byte) ([]byte, error) {
	id := p.calls.Add(1)
	req := &pluginwire.CallRequest{Export: export, Input: input, Host: inst.serveHost(), CallID: id}
	// The RPC outlives the caller's deadline by the grace period, so that the host sees whether
	// the export gives the call back; the export's own context has the caller's deadline.
	rctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	if dl, ok := ctx.Deadline(); ok {
		req.DeadlineUnixNano = dl.UnixNano()
		cancel()
		rctx, cancel = context.WithDeadline(context.WithoutCancel(ctx), dl.Add(p.cfg.Grace))
	}
	stop := context.AfterFunc(ctx, func() {
		if !errors.Is(ctx.Err(), context.DeadlineExceeded) {
			cancel() // the caller gave up: cancel the export now
		}
	})
	p.inflight.Store(id, ctx)
	done := make(chan result, 1)
	go func() {
		defer func() { <-p.sem }() // held past the caller's deadline while the export runs on
		defer p.inflight.Delete(id)
		defer cancel()
		defer stop()
		var resp wrapperspb.BytesValue
		err := inst.conn.Invoke(rctx, pluginwire.ExtensionCallMethod, req, &resp,
			grpc.MaxCallRecvMsgSize(p.cfg.Limits.MaxOutput+1024))
		if err != nil {
			done <- result{err: p.failed(inst, rctx, export, err)}
			return
		}
		done <- result{out: resp.GetValue()}
	}()
	select {
	case r := <-done:
		return r.out, r.err
	case <-ctx.Done():
		// Fail the call now. The goroutine above keeps watching the RPC and kills the process
		// if the export does not give the call back within the grace period.
		return nil, fmt.Errorf("%w: %w", ErrDeadline, ctx.Err())
	}
}

// failed classifies a failed Extension/Call and acts on it (killing a hung or broken process).
func (p *Process) failed(inst *instance, rctx context.Context, export string, err error) error {
	st, _ := status.FromError(err)
	switch pluginwire.FailureKind(err) {
	case pluginwire.KindGuest:
		return fmt.Errorf("%w: %s", ErrGuest, st.Message())
	case pluginwire.KindNoExport:
		return fmt.Errorf("%w: %s", ErrNoExport, export)
	case pluginwire.KindDeadline, pluginwire.KindCanceled:
		return fmt.Errorf("%w: the export stopped: %s", ErrDeadline, st.Message())
	}
	switch {
	case st.Code() == codes.ResourceExhausted:
		return fmt.Errorf("%w: %s", ErrOutputTooLarge, st.Message())
	case errors.Is(rctx.Err(), context.DeadlineExceeded):
		reason := fmt.Sprintf("export %s did not return within %s of its deadline", export, p.cfg.Grace)
		if inst.kill(reason) {
			p.log.Error("killed hung extension process", "pid", inst.pid, "reason", reason)
			p.mu.Lock()
			p.stats.Kills++
			p.mu.Unlock()
		}
		return fmt.Errorf("%w: %s", ErrDeadline, reason)
	case errors.Is(rctx.Err(), context.Canceled):
		return fmt.Errorf("%w: %w", ErrDeadline, context.Canceled)
	}
	// The transport failed: the process died, or its connection broke.
	select {
	case <-inst.done:
	case <-time.After(time.Second):
		inst.kill("its connection failed: " + err.Error())
		<-inst.done
	}
	return fmt.Errorf("%w: %s", ErrCrashed, inst.describeExit())
}

// instance returns the running instance. While the process is being restarted it waits for the
// restart when it is due before ctx's deadline, and fails with ErrCrashed otherwise or when the
// restart fails.
func (p *Process) instance(ctx context.Context) (*instance, error) {
	p.mu.Lock()
	failures := p.stats.StartFailures
	for {
		dead := false
		switch {
		case p.closed:
			p.mu.Unlock()
			return nil, ErrClosed
		case p.cur != nil:
			inst := p.cur
			if !inst.exited() && inst.killReason() == "" {
				p.mu.Unlock()
				return inst, nil
			}
			dead = true // exited or being killed; exited() has not run yet: it will signal
		case p.stats.StartFailures != failures:
			err := p.lastErr
			p.mu.Unlock()
			return nil, err
		case p.stopped:
			// Started again after DropIdle (the extension was disabled, then re-enabled).
			p.stopped = false
			p.backoff = p.cfg.Backoff.Initial
			p.scheduleLocked(0)
		}
		ch, next, lastErr := p.ready, p.nextAttempt, p.lastErr
		p.mu.Unlock()
		if dl, ok := ctx.Deadline(); ok && !dead && dl.Before(next) {
			if lastErr == nil {
				lastErr = ErrCrashed
			}
			return nil, fmt.Errorf("restarting in %s: %w", time.Until(next).Round(time.Millisecond), lastErr)
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return nil, fmt.Errorf("%w: waiting for the process to restart: %w", ErrCrashed, ctx.Err())
		}
		p.mu.Lock()
	}
}

// signalLocked wakes everyone waiting in instance.
func (p *Process) signalLocked() {
	close(p.ready)
	p.ready = make(chan struct{})
}

// nextBackoffLocked returns the delay of the next restart and doubles the one after.
func (p *Process) nextBackoffLocked() time.Duration {
	d := p.backoff
	p.backoff = min(2*d, p.cfg.Backoff.Max)
	return d
}

// scheduleLocked schedules a start attempt after delay, unless one is pending.
func (p *Process) scheduleLocked(delay time.Duration) {
	if p.pending || p.closed {
		return
	}
	p.pending = true
	p.stats.LastBackoff = delay
	p.nextAttempt = time.Now().Add(delay)
	p.attempts.Add(1)
	p.timer = time.AfterFunc(delay, p.attempt)
}

// attempt starts a process to replace the one that exited.
func (p *Process) attempt() {
	defer p.attempts.Done()
	ctx, cancel := context.WithTimeout(context.Background(), p.cfg.StartTimeout)
	defer cancel()
	inst, err := p.launch(ctx)
	p.mu.Lock()
	p.pending = false
	switch {
	case p.closed || p.stopped || cleanedUp():
		p.signalLocked()
		p.mu.Unlock()
		if inst != nil {
			inst.kill("the extension was stopped")
			go inst.watch()
			<-inst.released
		}
		return
	case err != nil:
		p.stats.StartFailures++
		p.lastErr = fmt.Errorf("%w: restarting it failed: %w", ErrCrashed, err)
		delay := p.nextBackoffLocked()
		p.log.Error("restarting extension process failed", "err", err, "retry_in", delay)
		p.scheduleLocked(delay)
	default:
		p.cur = inst
		p.stats.Starts++
		p.lastErr = nil
		p.log.Info("extension process restarted", "pid", inst.pid)
		go inst.watch()
	}
	p.signalLocked()
	p.mu.Unlock()
}

// exited is called once inst's process has exited and been cleaned up.
func (p *Process) exited(inst *instance) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cur != inst {
		return
	}
	p.cur = nil
	desc := inst.describeExit()
	if inst.killReason() == "" {
		p.stats.Crashes++
		p.log.Error("extension process crashed", "pid", inst.pid, "exit", desc)
	} else if p.closed {
		p.log.Debug("extension process stopped", "pid", inst.pid, "exit", desc)
	} else {
		p.log.Warn("extension process stopped", "pid", inst.pid, "exit", desc)
	}
	p.lastErr = fmt.Errorf("%w: %s", ErrCrashed, desc)
	if !p.closed && !p.stopped && !cleanedUp() {
		if time.Since(inst.started) >= p.cfg.Backoff.StableAfter {
			p.backoff = p.cfg.Backoff.Initial
		}
		p.scheduleLocked(p.nextBackoffLocked())
	}
	p.signalLocked()
}

// DropIdle stops the process and its restarts (ext.Extension calls it when it disables the
// extension). The next call starts it again.
func (p *Process) DropIdle(context.Context) {
	p.mu.Lock()
	p.stopped = true
	inst := p.cur
	p.mu.Unlock()
	if inst != nil {
		inst.kill("the extension was disabled")
	}
}

// Close stops the process: it asks it to shut down, kills it (and its process group) if it has
// not exited when ctx is done, and returns once it is gone. Calls fail with ErrClosed afterwards.
func (p *Process) Close(ctx context.Context) error {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return nil
	}
	p.closed = true
	inst := p.cur
	if p.pending && p.timer != nil && p.timer.Stop() {
		p.pending = false
		p.attempts.Done()
	}
	p.signalLocked()
	p.mu.Unlock()
	if inst != nil {
		inst.stop(ctx)
	}
	p.attempts.Wait()
	p.removeScratch()
	return nil
}

// cleanedUp reports whether go-plugin's CleanupClients ran (the host is exiting): no restarts.
func cleanedUp() bool { return atomic.LoadUint32(&goplugin.Killed) == 1 }

// fileSHA256 hashes a file.
func fileSHA256(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return nil, fmt.Errorf("hashing %s: %w", path, err)
	}
	return h.Sum(nil), nil
}

// checksumError names both sides of a mismatch.
func (p *Process) checksumError() error {
	got := "unreadable"
	if sum, err := fileSHA256(p.path); err == nil {
		got = hex.EncodeToString(sum)
	}
	return fmt.Errorf("%w: %s has sha256 %s, pinned %s", ErrChecksumMismatch, p.path, got, hex.EncodeToString(p.sum))
}

// childEnv is the environment of an extension process: a few variables of the host's, then
// extra. go-plugin adds its handshake and mTLS variables.
func childEnv(extra []string) []string {
	var env []string
	for _, k := range []string{"PATH", "HOME", "TMPDIR", "LANG", "LC_ALL", "LC_CTYPE", "TZ", "SYSTEMROOT", "TEMP", "TMP"} {
		if v, ok := os.LookupEnv(k); ok {
			env = append(env, k+"="+v)
		}
	}
	return append(env, extra...)
}

// Interface guards.
var (
	_ ext.Runner = (*Process)(nil)
	_ ext.Idler  = (*Process)(nil)
)
