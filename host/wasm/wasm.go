package wasm

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"runtime"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	extism "github.com/extism/go-sdk"
	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/experimental"
	"github.com/tetratelabs/wazero/sys"

	"github.com/cairnfs/cairn/host/abi"
	"github.com/cairnfs/cairn/host/datafs"
	"github.com/cairnfs/cairn/host/ext"
)

// Config configures a Runtime.
type Config struct {
	// CacheDir holds compiled modules across process starts ("" keeps them in memory only).
	CacheDir string
	// Logger receives the runtime's own messages (nil: discarded).
	Logger *slog.Logger
}

// Runtime loads WASM modules. One per process; it is safe for concurrent use.
type Runtime struct {
	cache wazero.CompilationCache
	log   *slog.Logger
}

var logLevelOnce sync.Once

// NewRuntime opens the compilation cache. It also sets go-sdk's guest log level (a process-wide
// setting of go-sdk) to info, so that guests' Extism log_* calls at info and above reach their
// extension's logger.
func NewRuntime(cfg Config) (*Runtime, error) {
	r := &Runtime{log: cfg.Logger}
	if r.log == nil {
		r.log = slog.New(slog.DiscardHandler)
	}
	if cfg.CacheDir == "" {
		r.cache = wazero.NewCompilationCache()
	} else {
		c, err := wazero.NewCompilationCacheWithDir(cfg.CacheDir)
		if err != nil {
			return nil, fmt.Errorf("opening the wasm compilation cache %s: %w", cfg.CacheDir, err)
		}
		r.cache = c
	}
	logLevelOnce.Do(func() { extism.SetLogLevel(extism.LogLevelInfo) })
	return r, nil
}

// Close releases the compilation cache (close every Module first).
func (r *Runtime) Close(ctx context.Context) error { return r.cache.Close(ctx) }

// Limits of a module's instances. Zero fields take the defaults.
type Limits struct {
	// MemoryLimitPages caps each linear memory of an instance, in 64 KiB pages (default 4096 =
	// 256 MiB). Growing past it fails the call with ErrMemoryLimit.
	MemoryLimitPages uint32
	// MemoryBudget recycles an instance whose memories total more than this many bytes after a
	// call (default half the limit).
	MemoryBudget int64
	// PoolMemory caps the memories of all the module's instances together, in bytes (default
	// MemoryLimitPages × 64 KiB: concurrent calls share one instance's worth, so a pool of N
	// instances cannot hold N times the limit). Growing past it fails the call with
	// ErrMemoryLimit like the per-instance limit.
	PoolMemory int64
	// LogBytes bounds what the module's instances write to stdout and stderr together over the
	// module's life (default 8 MiB; each call also at most MaxLogLinesPerCall lines and
	// MaxLogBytesPerCall bytes). Past it lines are dropped, with one note.
	LogBytes int64
	// PoolSize is the most instances that exist at once (default GOMAXPROCS, at most 4).
	PoolSize int
	// Timeout is the deadline of a call whose context has none (default 30 s).
	Timeout time.Duration
}

// Defaults of Limits.
const (
	DefaultMemoryLimitPages = 4096
	DefaultTimeout          = 30 * time.Second
	// The runtime's own limit is a backstop at twice MemoryLimitPages (at least 1024 pages
	// above it): the instance's allocator enforces MemoryLimitPages itself, because it can tell
	// a memory fault from a trap and wazero refuses growth past its limit without telling it.
	minBackstopPages = 1024
)

func (l Limits) withDefaults() Limits {
	if l.MemoryLimitPages == 0 {
		l.MemoryLimitPages = DefaultMemoryLimitPages
	}
	if l.MemoryLimitPages > 65536-minBackstopPages {
		l.MemoryLimitPages = 65536 - minBackstopPages
	}
	if l.MemoryBudget <= 0 {
		l.MemoryBudget = int64(l.MemoryLimitPages) * 65536 / 2
	}
	if l.LogBytes <= 0 {
		l.LogBytes = 8 << 20
	}
	if l.PoolMemory <= 0 {
		l.PoolMemory = int64(l.MemoryLimitPages) * 65536
	}
	if l.PoolSize <= 0 {
		l.PoolSize = min(runtime.GOMAXPROCS(0), 4)
	}
	if l.Timeout <= 0 {
		l.Timeout = DefaultTimeout
	}
	return l
}

// backstopPages is the runtime's memory limit for an instance limit of pages.
func backstopPages(pages uint32) uint32 {
	return uint32(min(65536, max(2*uint64(pages), uint64(pages)+minBackstopPages)))
}

// InitExport is the optional export called once on every new instance (v1.md: cairn_init).
const InitExport = "cairn_init"

// ModuleSpec is what Load needs to know about a module.
type ModuleSpec struct {
	// Name identifies the module in errors and logs (the extension id).
	Name string
	// Wasm is the module (already verified against the manifest's hash).
	Wasm []byte
	// HostCall serves cairn:host/v1 call: an encoded abi.Request in, an encoded abi.Response out
	// (typically a closure over abi.Dispatcher.Handle). Nil answers every call "unavailable".
	HostCall func(ctx context.Context, request []byte) []byte
	// Files is mounted read-only at /data (nil: no file system at all).
	Files fs.FS
	// Config is the Extism config (config_get).
	Config map[string]string
	// Init is the input of cairn_init, called on every new instance when the module exports it
	// (nil: not called).
	Init []byte
	// Logger receives the guest's stdout, stderr and Extism log calls (nil: discarded).
	Logger *slog.Logger
	Limits Limits
	// StubMissing defines every imported host function the host does not provide as a stub
	// that fails the call reaching it (ErrStubCalled), so that the exports that never call one
	// still run. Off: such a module does not load (*MissingImportsError).
	StubMissing bool
}

// Module is a compiled module and its instance pool. It implements ext.Runner and is safe for
// concurrent use.
type Module struct {
	name    string
	cp      *extism.CompiledPlugin
	spec    ModuleSpec
	limits  Limits
	log     *slog.Logger
	exports map[string]bool

	slots chan struct{} // one token per instance that may exist
	mu    sync.Mutex
	idle  []*instance
	shut  bool

	created, discarded, recycled atomic.Uint64
	poolMem                      atomic.Int64 // bytes of every instance's memories
	logBytes                     atomic.Int64 // bytes of stdout and stderr, every instance
	logNoted                     atomic.Bool
}

// Load compiles spec.Wasm (or loads it from the compilation cache) and creates its first
// instance, which checks that every import resolves and runs cairn_init.
func (r *Runtime) Load(ctx context.Context, spec ModuleSpec) (*Module, error) {
	lim := spec.Limits.withDefaults()
	log := spec.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	rc := wazero.NewRuntimeConfig().
		WithCloseOnContextDone(true).
		WithMemoryLimitPages(backstopPages(lim.MemoryLimitPages)).
		WithCompilationCache(r.cache)
	// No AllowedHosts, ever: Extism's http_request (http.DefaultClient: redirects to any host,
	// the environment's proxy) is denied to every module; the host's http.request serves net.
	man := extism.Manifest{
		Wasm:   []extism.Wasm{extism.WasmData{Data: spec.Wasm, Name: "main"}},
		Config: spec.Config,
	}
	start := time.Now()
	funcs := []extism.HostFunction{hostCallFunction(spec.HostCall, log)}
	if spec.StubMissing {
		missing, err := missingImports(ctx, rc, spec.Wasm, funcs)
		if err != nil {
			return nil, fmt.Errorf("compiling wasm module %s: %w", spec.Name, err)
		}
		funcs = append(funcs, stubs(missing)...)
	}
	cp, err := extism.NewCompiledPlugin(ctx, man, extism.PluginConfig{EnableWasi: true, RuntimeConfig: rc}, funcs)
	if err != nil {
		return nil, fmt.Errorf("compiling wasm module %s: %w", spec.Name, err)
	}
	m := &Module{name: spec.Name, cp: cp, spec: spec, limits: lim, log: log, slots: make(chan struct{}, lim.PoolSize)}
	m.slots <- struct{}{}
	first, err := m.newInstance(ctx)
	if err != nil {
		<-m.slots
		cp.Close(ctx)
		// Name every missing import (wazero names the first module only).
		if missing, merr := missingImports(ctx, rc, spec.Wasm, funcs); merr == nil && len(missing) > 0 {
			e := &MissingImportsError{Module: spec.Name}
			for _, d := range missing {
				e.Missing = append(e.Missing, importName(d))
			}
			return nil, e
		}
		return nil, err
	}
	m.exports = map[string]bool{}
	for name := range first.p.Module().ExportedFunctions() {
		m.exports[name] = true
	}
	if err := m.initInstance(ctx, first); err != nil {
		first.close()
		<-m.slots
		cp.Close(ctx)
		return nil, err
	}
	m.release(first, true)
	log.Debug("wasm module loaded", "module", spec.Name, "took", time.Since(start), "exports", len(m.exports))
	return m, nil
}

// hostCallFunction is cairn:host/v1 call: request offset in, response offset out. It never
// panics (a panicking host function would abort the guest).
func hostCallFunction(serve func(context.Context, []byte) []byte, log *slog.Logger) extism.HostFunction {
	fn := extism.NewHostFunctionWithStack(abi.ImportName, func(ctx context.Context, p *extism.CurrentPlugin, stack []uint64) {
		var resp []byte
		func() {
			defer func() {
				if r := recover(); r != nil {
					log.Error("host call panicked", "panic", r)
					resp = errorResponse(abi.CodeInternal, "the host failed serving this call")
				}
			}()
			req, err := p.ReadBytes(stack[0])
			switch {
			case err != nil:
				resp = errorResponse(abi.CodeInvalidArgument, "reading the request from kernel memory: "+err.Error())
			case serve == nil:
				resp = errorResponse(abi.CodeUnavailable, "this host serves no host calls")
			default:
				resp = serve(ctx, req)
			}
		}()
		off, err := p.WriteBytes(resp)
		if err != nil {
			off = 0 // kernel memory is full: the guest sees an empty answer
		}
		stack[0] = off
	}, []extism.ValueType{extism.ValueTypePTR}, []extism.ValueType{extism.ValueTypePTR})
	fn.SetNamespace(abi.ImportModule)
	return fn
}

func errorResponse(code, msg string) []byte {
	b, _ := json.Marshal(abi.Response{Error: &abi.Error{Code: code, Message: msg}})
	return b
}

// instance is one plugin instance with its sandbox state.
type instance struct {
	p     *extism.Plugin
	mem   *memTracker
	sleep *sleeper
	out   *output
	calls int
}

// close closes the plugin and unmaps its memories; the instance must not be running a call.
func (i *instance) close() {
	i.p.Close(context.Background())
	i.mem.release()
}

// newInstance instantiates the module under the sandbox policy (see the package doc).
func (m *Module) newInstance(ctx context.Context) (*instance, error) {
	in := &instance{
		mem:   &memTracker{limit: uint64(m.limits.MemoryLimitPages) * 65536, pool: &m.poolMem, poolLimit: m.limits.PoolMemory},
		sleep: &sleeper{},
		out:   &output{log: m.log, run: &m.logBytes, runLimit: m.limits.LogBytes, runNoted: &m.logNoted},
	}
	mc := wazero.NewModuleConfig().
		WithSysWalltime().
		WithSysNanotime().
		WithNanosleep(in.sleep.sleep).
		WithRandSource(rand.Reader).
		WithStdout(in.out.stream("stdout", false)).
		WithStderr(in.out.stream("stderr", true))
	fsc := wazero.NewFSConfig()
	if m.spec.Files != nil {
		fsc = fsc.WithFSMount(m.spec.Files, datafs.MountPoint)
	}
	mc = mc.WithFSConfig(fsc)
	p, err := m.cp.Instance(experimental.WithMemoryAllocator(ctx, in.mem), extism.PluginInstanceConfig{ModuleConfig: mc})
	if err != nil {
		return nil, fmt.Errorf("instantiating wasm module %s: %w", m.name, err)
	}
	p.SetLogger(func(level extism.LogLevel, msg string) { in.out.extism(extismLevel(level), msg) })
	in.p = p
	m.created.Add(1)
	return in, nil
}

func extismLevel(l extism.LogLevel) slog.Level {
	switch l {
	case extism.LogLevelTrace:
		return slog.LevelDebug - 4
	case extism.LogLevelDebug:
		return slog.LevelDebug
	case extism.LogLevelInfo:
		return slog.LevelInfo
	case extism.LogLevelWarn:
		return slog.LevelWarn
	}
	return slog.LevelError
}

// initInstance runs cairn_init on a new instance, if the module exports it.
func (m *Module) initInstance(ctx context.Context, in *instance) error {
	if m.spec.Init == nil || !m.exports[InitExport] {
		return nil
	}
	if _, err := m.callInstance(ctx, in, InitExport, m.spec.Init); err != nil {
		return fmt.Errorf("initializing an instance of %s: %w", m.name, err)
	}
	return nil
}

// HasExport implements ext.Runner.
func (m *Module) HasExport(name string) bool { return m.exports[name] }

// Exports lists the module's exported functions, sorted.
func (m *Module) Exports() []string {
	out := make([]string, 0, len(m.exports))
	for e := range m.exports {
		out = append(out, e)
	}
	sort.Strings(out)
	return out
}

// ErrBusy is returned when a call's context ended while it waited for a free instance.
var ErrBusy = errors.New("every instance is busy")

// acquire takes an instance slot (waiting for one) and an idle or new instance.
func (m *Module) acquire(ctx context.Context) (*instance, error) {
	m.mu.Lock()
	shut := m.shut
	m.mu.Unlock()
	if shut {
		return nil, ext.ErrClosed
	}
	select {
	case m.slots <- struct{}{}:
	case <-ctx.Done():
		return nil, fmt.Errorf("%w (pool of %d): %w", ErrBusy, m.limits.PoolSize, ctx.Err())
	}
	m.mu.Lock()
	if m.shut {
		m.mu.Unlock()
		<-m.slots
		return nil, ext.ErrClosed
	}
	if n := len(m.idle); n > 0 {
		in := m.idle[n-1]
		m.idle = m.idle[:n-1]
		m.mu.Unlock()
		return in, nil
	}
	m.mu.Unlock()
	in, err := m.newInstance(ctx)
	if err == nil {
		if err = m.initInstance(ctx, in); err != nil {
			in.close()
		}
	}
	if err != nil {
		<-m.slots
		return nil, err
	}
	return in, nil
}

// release gives an instance back, or closes it.
func (m *Module) release(in *instance, keep bool) {
	m.mu.Lock()
	if keep && !m.shut {
		m.idle = append(m.idle, in)
		m.mu.Unlock()
	} else {
		m.mu.Unlock()
		in.close()
	}
	<-m.slots
}

// Run implements ext.Runner: one call on a pooled instance. A call that faults discards its
// instance; one that leaves it over the memory budget recycles it.
func (m *Module) Run(ctx context.Context, export string, input []byte) ([]byte, error) {
	if !m.exports[export] {
		return nil, fmt.Errorf("%w: %s does not export %q", ext.ErrNoExport, m.name, export)
	}
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, m.limits.Timeout)
		defer cancel()
	}
	in, err := m.acquire(ctx)
	if err != nil {
		return nil, err
	}
	out, err := m.callInstance(ctx, in, export, input)
	keep := err == nil || errors.Is(err, ext.ErrGuest)
	if !keep {
		m.discarded.Add(1)
	} else if in.mem.total.Load() > m.limits.MemoryBudget {
		keep = false
		m.recycled.Add(1)
		m.log.Debug("recycling a wasm instance over its memory budget", "module", m.name, "bytes", in.mem.total.Load())
	}
	m.release(in, keep)
	return out, err
}

// callInstance calls export on in and classifies the outcome (see the package doc).
func (m *Module) callInstance(ctx context.Context, in *instance, export string, input []byte) ([]byte, error) {
	in.calls++
	in.out.reset()
	in.sleep.setCall(ctx)
	rc, out, err := in.p.CallWithContext(ctx, export, input)
	if err == nil {
		if rc != 0 {
			return nil, fmt.Errorf("%w: %s returned %d without an error message", ext.ErrGuest, export, rc)
		}
		return out, nil
	}
	switch {
	case ctx.Err() != nil:
		return nil, fmt.Errorf("%w: %s stopped after its deadline: %v", ext.ErrDeadline, export, context.Cause(ctx))
	case in.mem.refusedPool.Load():
		return nil, fmt.Errorf("%w: %s: the module's instances together needed more than %d MiB", ext.ErrMemoryLimit, export,
			m.limits.PoolMemory>>20)
	case in.mem.refused.Load() || strings.Contains(in.out.crashReason(), "out of memory"):
		return nil, fmt.Errorf("%w: %s needed more than %d pages (%d MiB)", ext.ErrMemoryLimit, export,
			m.limits.MemoryLimitPages, m.limits.MemoryLimitPages/16)
	}
	var exit *sys.ExitError
	if errors.As(err, &exit) {
		switch exit.ExitCode() {
		case sys.ExitCodeDeadlineExceeded, sys.ExitCodeContextCanceled:
			return nil, fmt.Errorf("%w: %s: %v", ext.ErrDeadline, export, err)
		}
		return nil, fmt.Errorf("%w: %s exited with code %d%s", ext.ErrTrap, export, exit.ExitCode(), guestReason(in.out.crashReason()))
	}
	if msg := in.p.GetError(); msg != "" && msg == err.Error() { // set by the guest (error_set)
		if strings.HasPrefix(msg, "panic: ") {
			return nil, fmt.Errorf("%w: %s panicked: %s", ext.ErrTrap, export, firstLine(msg))
		}
		return nil, fmt.Errorf("%w: %s", ext.ErrGuest, msg)
	}
	return nil, fmt.Errorf("%w: %s: %s%s", ext.ErrTrap, export, firstLine(err.Error()), guestReason(in.out.crashReason()))
}

// guestReason formats the guest runtime's own explanation of a crash, if it printed one.
func guestReason(reason string) string {
	if reason == "" {
		return ""
	}
	return " (" + reason + ")"
}

// DropIdle implements ext.Idler: idle instances are closed (new ones are made on demand).
func (m *Module) DropIdle(context.Context) {
	m.mu.Lock()
	idle := m.idle
	m.idle = nil
	m.mu.Unlock()
	for _, in := range idle {
		in.close()
	}
}

// PoolStats describe a module's instances.
type PoolStats struct {
	Size      int    // the most that may exist at once
	Idle      int    // idle now
	Busy      int    // running a call now
	Created   uint64 // ever created
	Discarded uint64 // closed after a fault
	Recycled  uint64 // closed for being over the memory budget
	// MemoryBytes is what the linear memories of every instance hold now (Limits.PoolMemory
	// caps it).
	MemoryBytes int64
}

// Stats returns the pool's counters.
func (m *Module) Stats() PoolStats {
	m.mu.Lock()
	idle := len(m.idle)
	m.mu.Unlock()
	busy := len(m.slots) - idle
	return PoolStats{Size: m.limits.PoolSize, Idle: idle, Busy: max(busy, 0), Created: m.created.Load(),
		Discarded: m.discarded.Load(), Recycled: m.recycled.Load(), MemoryBytes: m.poolMem.Load()}
}

// Close waits (until ctx ends) for running calls, then closes every instance and the module's
// runtime; calls still running then fail.
func (m *Module) Close(ctx context.Context) error {
	m.mu.Lock()
	m.shut = true
	m.mu.Unlock()
	m.DropIdle(ctx)
	for n := 0; n < cap(m.slots); n++ {
		select {
		case m.slots <- struct{}{}:
		case <-ctx.Done():
			n = cap(m.slots)
		}
	}
	if err := m.cp.Close(context.WithoutCancel(ctx)); err != nil {
		return fmt.Errorf("closing wasm module %s: %w", m.name, err)
	}
	return nil
}

// ReadModule reads a module file (a convenience for callers that load from disk).
func ReadModule(path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading wasm module: %w", err)
	}
	return b, nil
}

// Interface guards.
var (
	_ ext.Runner = (*Module)(nil)
	_ ext.Idler  = (*Module)(nil)
)

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}
