package exttest

import (
	"context"
	"fmt"
	"os"
	"sync"
	"sync/atomic"

	extism "github.com/extism/go-sdk"
	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/experimental"

	"github.com/cairnfs/cairn/sdk/cairn"
)

// Runtime runs one module for the checks. ExtismRuntime is the plain
// go-sdk implementation; a real host can provide its own.
type Runtime interface {
	// HasExport reports whether the module exports the function name.
	HasExport(name string) bool
	// Instance starts a fresh instance. The checks call cairn_init
	// themselves when the module exports it.
	Instance(ctx context.Context) (Instance, error)
	Close(ctx context.Context) error
}

// Instance is one instance of a module. The checks use an instance from one
// goroutine at a time.
type Instance interface {
	// Call runs export with input until ctx is done. An error the module set
	// and a trap are both errors; after a trap or a deadline the instance is
	// closed.
	Call(ctx context.Context, export string, input []byte) ([]byte, error)
	// MemoryBytes is the size of the module's linear memory after the last
	// call, 0 when the runtime cannot tell.
	MemoryBytes() uint64
	Close(ctx context.Context) error
}

// ExtismOptions configure NewExtismRuntime.
type ExtismOptions struct {
	// Host answers the module's cairn:host/v1 call imports (nil: every call
	// answers unavailable).
	Host cairn.HostFunc
	// DataDir is mounted read-only at /data ("" for no mount).
	DataDir string
	// MaxPages caps linear memory (0: wazero's default, 65536 pages).
	MaxPages uint32
	// Probe lists the exports after which MemoryBytes is measured.
	Probe []string
	// CacheDir holds compiled modules ("" or "-": in memory, per process).
	CacheDir string
}

// ExtismRuntime runs a module in a plain github.com/extism/go-sdk host with
// the settings STACK.md asks for: WASI on, a runtime that closes a module
// when its call's context is done (a spinning guest is stopped at its
// deadline), a read-only /data mount, and the cairn:host/v1 call import.
// Clocks and randomness are wazero's deterministic defaults.
type ExtismRuntime struct {
	cp      *extism.CompiledPlugin
	exports map[string]bool
	mem     *memProbe
}

var (
	cachesMu sync.Mutex
	caches   = map[string]wazero.CompilationCache{}
)

func compilationCache(dir string) wazero.CompilationCache {
	cachesMu.Lock()
	defer cachesMu.Unlock()
	if c, ok := caches[dir]; ok {
		return c
	}
	var c wazero.CompilationCache
	if dir != "" && dir != "-" {
		if err := os.MkdirAll(dir, 0o755); err == nil {
			c, err = wazero.NewCompilationCacheWithDir(dir)
			if err != nil {
				c = nil
			}
		}
	}
	if c == nil {
		c = wazero.NewCompilationCache()
	}
	caches[dir] = c
	return c
}

// NewExtismRuntime compiles wasm (the module's bytes).
func NewExtismRuntime(ctx context.Context, wasm []byte, o ExtismOptions) (*ExtismRuntime, error) {
	host := o.Host
	if host == nil {
		host = func([]byte) []byte {
			return []byte(`{"error":{"code":"unavailable","message":"exttest: no host"}}`)
		}
	}
	call := extism.NewHostFunctionWithStack("call",
		func(ctx context.Context, p *extism.CurrentPlugin, stack []uint64) {
			var resp []byte
			req, err := p.ReadBytes(stack[0])
			if err != nil {
				resp = []byte(`{"error":{"code":"invalid_argument","message":"request: not a kernel memory block"}}`)
			} else {
				resp = host(req)
			}
			off, err := p.WriteBytes(resp)
			if err != nil {
				off = 0 // the guest reads an empty response: an internal error
			}
			stack[0] = off
		},
		[]extism.ValueType{extism.ValueTypePTR}, []extism.ValueType{extism.ValueTypePTR})
	call.SetNamespace("cairn:host/v1")

	m := extism.Manifest{Wasm: []extism.Wasm{extism.WasmData{Data: wasm}}}
	if o.DataDir != "" {
		m.AllowedPaths = map[string]string{"ro:" + o.DataDir: MountPoint}
	}
	rc := wazero.NewRuntimeConfig().WithCloseOnContextDone(true).WithCompilationCache(compilationCache(o.CacheDir))
	if o.MaxPages > 0 {
		rc = rc.WithMemoryLimitPages(o.MaxPages)
	}
	probe := &memProbe{exports: map[string]bool{}}
	for _, e := range o.Probe {
		probe.exports[e] = true
	}
	ctx = experimental.WithFunctionListenerFactory(ctx, probe)
	cp, err := extism.NewCompiledPlugin(ctx, m, extism.PluginConfig{EnableWasi: true, RuntimeConfig: rc},
		[]extism.HostFunction{call})
	if err != nil {
		return nil, fmt.Errorf("exttest: load module: %w", err)
	}
	r := &ExtismRuntime{cp: cp, exports: map[string]bool{}, mem: probe}
	// go-sdk exposes exports only on instances.
	p, err := cp.Instance(ctx, extism.PluginInstanceConfig{})
	if err != nil {
		cp.Close(ctx)
		return nil, fmt.Errorf("exttest: instantiate module: %w", err)
	}
	for name := range p.Module().ExportedFunctions() {
		r.exports[name] = true
	}
	p.Close(ctx)
	return r, nil
}

// HasExport reports whether the module exports name.
func (r *ExtismRuntime) HasExport(name string) bool { return r.exports[name] }

// Exports returns the module's exported function names.
func (r *ExtismRuntime) Exports() []string { return sortedKeys(r.exports) }

// Instance starts an instance whose stdout and stderr are kept (the last
// 4 KiB) for error messages.
func (r *ExtismRuntime) Instance(ctx context.Context) (Instance, error) {
	out := &tail{}
	p, err := r.cp.Instance(ctx, extism.PluginInstanceConfig{
		ModuleConfig: wazero.NewModuleConfig().WithStdout(out).WithStderr(out),
	})
	if err != nil {
		return nil, fmt.Errorf("exttest: new instance: %w", err)
	}
	return &extismInstance{p: p, out: out, mem: r.mem}, nil
}

// Close releases the compiled module and its runtime.
func (r *ExtismRuntime) Close(ctx context.Context) error { return r.cp.Close(ctx) }

type extismInstance struct {
	p   *extism.Plugin
	out *tail
	mem *memProbe
}

func (i *extismInstance) Call(ctx context.Context, export string, input []byte) ([]byte, error) {
	rc, out, err := i.p.CallWithContext(ctx, export, input)
	if err == nil && rc != 0 {
		err = fmt.Errorf("%s returned %d without an error message", export, rc)
	}
	if err != nil {
		if s := i.out.String(); s != "" {
			if len(s) > 1024 {
				s = "…" + s[len(s)-1024:]
			}
			err = fmt.Errorf("%w\nguest output (the end):\n%s", err, s)
		}
		return nil, err
	}
	return out, nil
}

func (i *extismInstance) MemoryBytes() uint64 { return uint64(i.mem.bytes.Load()) }

func (i *extismInstance) Close(ctx context.Context) error { return i.p.Close(ctx) }

// memProbe records the guest's linear memory size after each call of the
// probed exports. go-sdk does not expose the guest module; a wazero
// function listener is handed the calling module. Calls are sequential in
// the checks, so one value serves every instance.
type memProbe struct {
	exports map[string]bool
	bytes   atomic.Uint32
}

func (m *memProbe) NewFunctionListener(def api.FunctionDefinition) experimental.FunctionListener {
	for _, n := range def.ExportNames() {
		if m.exports[n] {
			return m
		}
	}
	return nil
}

func (m *memProbe) Before(context.Context, api.Module, api.FunctionDefinition, []uint64, experimental.StackIterator) {
}

func (m *memProbe) After(_ context.Context, mod api.Module, _ api.FunctionDefinition, _ []uint64) {
	if mem := mod.Memory(); mem != nil {
		m.bytes.Store(mem.Size())
	}
}

func (m *memProbe) Abort(context.Context, api.Module, api.FunctionDefinition, error) {}

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
		t.buf = append([]byte(nil), t.buf[len(t.buf)-4096:]...)
	}
	return len(p), nil
}

func (t *tail) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return string(t.buf)
}

// Interface guards.
var (
	_ Runtime  = (*ExtismRuntime)(nil)
	_ Instance = (*extismInstance)(nil)
)
