//go:build !wasip1

package pdk_test

// Host-side tests: they build the example guest with the standard Go toolchain
// for wasip1 and run it in a plain github.com/extism/go-sdk host, next to the
// third-party count_vowels.wasm that ships with go-sdk.

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	extism "github.com/extism/go-sdk"
	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/experimental"
)

const examplePkg = "github.com/cairnfs/cairn/sdk/examples/countvowels"

var (
	buildOnce  sync.Once
	guestPath  string
	extismPath string
	buildErr   error

	// cache makes every NewCompiledPlugin after the first skip compilation
	// (~1 s for the 3.4 MB guest).
	cache = wazero.NewCompilationCache()
)

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "cairn-pdk-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	guestPath = filepath.Join(dir, "countvowels.wasm")
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// guest builds the example once per test binary and returns the paths of our
// guest and of go-sdk's count_vowels.wasm.
func guest(tb testing.TB) (ours, theirs string) {
	tb.Helper()
	buildOnce.Do(func() {
		start := time.Now()
		cmd := exec.Command("go", "build", "-buildmode=c-shared", "-o", guestPath, examplePkg)
		cmd.Env = append(os.Environ(), "GOOS=wasip1", "GOARCH=wasm", "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("build guest: %v\n%s", err, out)
			return
		}
		fi, err := os.Stat(guestPath)
		if err != nil {
			buildErr = err
			return
		}
		fmt.Fprintf(os.Stderr, "guest: %d bytes, built in %v\n", fi.Size(), time.Since(start).Round(time.Millisecond))

		out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "github.com/extism/go-sdk").Output()
		if err != nil {
			buildErr = fmt.Errorf("locate go-sdk module: %v", err)
			return
		}
		extismPath = filepath.Join(strings.TrimSpace(string(out)), "wasm", "count_vowels.wasm")
		if _, err := os.Stat(extismPath); err != nil {
			buildErr = fmt.Errorf("go-sdk's count_vowels.wasm: %w", err)
		}
	})
	if buildErr != nil {
		tb.Fatal(buildErr)
	}
	return guestPath, extismPath
}

type hostOpts struct {
	config map[string]string
	// transform is the host function cairn_test_transform, which every host
	// of our guest must define: wazero refuses to instantiate a module with
	// an unresolved import, called or not. Default: transformHost(nil).
	transform *extism.HostFunction
	ctx       context.Context // for experimental listeners; Background if nil
}

// compile loads path in a plain go-sdk host with the settings STACK.md asks
// for: WASI on, and a runtime that closes a module when its call's context
// is done.
func compile(tb testing.TB, path string, o hostOpts) *extism.CompiledPlugin {
	tb.Helper()
	ctx := o.ctx
	if ctx == nil {
		ctx = context.Background()
	}
	manifest := extism.Manifest{
		Wasm:   []extism.Wasm{extism.WasmFile{Path: path}},
		Config: o.config,
	}
	fn := o.transform
	if fn == nil {
		f := transformHost(nil)
		fn = &f
	}
	rc := wazero.NewRuntimeConfig().WithCloseOnContextDone(true).WithCompilationCache(cache)
	cp, err := extism.NewCompiledPlugin(ctx, manifest, extism.PluginConfig{EnableWasi: true, RuntimeConfig: rc},
		[]extism.HostFunction{*fn})
	if err != nil {
		tb.Fatalf("compile %s: %v", filepath.Base(path), err)
	}
	tb.Cleanup(func() { cp.Close(context.Background()) })
	return cp
}

func instance(tb testing.TB, cp *extism.CompiledPlugin) *extism.Plugin {
	tb.Helper()
	p, err := cp.Instance(context.Background(), extism.PluginInstanceConfig{})
	if err != nil {
		tb.Fatalf("instance: %v", err)
	}
	tb.Cleanup(func() { p.Close(context.Background()) })
	return p
}

// call calls fn with a deadline, as every host call should have.
func call(p *extism.Plugin, fn string, input []byte) (uint32, []byte, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	return p.CallWithContext(ctx, fn, input)
}

func mustCall(tb testing.TB, p *extism.Plugin, fn string, input []byte) []byte {
	tb.Helper()
	rc, out, err := call(p, fn, input)
	if err != nil || rc != 0 {
		tb.Fatalf("%s(%q): rc=%d err=%v", fn, input, rc, err)
	}
	return out
}

// TestCountVowelsGoSDKExpectations replays the expectations of go-sdk's own
// count_vowels tests (extism_test.go: TestCallFunction, TestCountVowels,
// TestMultipleCallsOutput) against our guest.
func TestCountVowelsGoSDKExpectations(t *testing.T) {
	ours, _ := guest(t)
	cp := compile(t, ours, hostOpts{})

	p := instance(t, cp)
	if got, want := string(mustCall(t, p, "count_vowels", []byte("aaa"))), `{"count":3,"total":3,"vowels":"aeiouAEIOU"}`; got != want {
		t.Errorf("count_vowels(aaa) = %s, want %s", got, want)
	}
	if got, want := string(mustCall(t, p, "count_vowels", []byte("bbba"))), `{"count":1,"total":4,"vowels":"aeiouAEIOU"}`; got != want {
		t.Errorf("count_vowels(bbba) = %s, want %s", got, want)
	}

	p = instance(t, cp)
	for input, want := range map[string]int{"hello world": 3, "aaaaaa": 6, "": 0, "bbbbbbb": 0} {
		out := mustCall(t, p, "count_vowels", []byte(input))
		var got struct{ Count int }
		if err := json.Unmarshal(out, &got); err != nil || got.Count != want {
			t.Errorf("count_vowels(%q) = %s (%v), want count %d", input, out, err, want)
		}
	}
}

// TestCountVowelsMatchesExtism runs the same inputs, in the same order, on
// our guest and on go-sdk's Rust-built count_vowels.wasm, and wants
// byte-identical outputs (the running "total" included).
func TestCountVowelsMatchesExtism(t *testing.T) {
	ours, theirs := guest(t)
	long := strings.Repeat("The quick brown fox jumps over the lazy dog. ", 500)
	inputs := []string{
		"hello world", "aaaaaa", "", "bbbbbbb", "aaa", "bbba",
		"ÀÉÎÕÜ àéîõü naïve café", "AEIOUaeiou", "12345678", "x", long,
		"日本語のテキスト and some ascii",
	}
	configs := []map[string]string{
		nil,
		{"vowels": "aeiouy"},
		{"vowels": `é"\<&>` + "\n\t\x01\u2028"},
		{"vowels": ""}, // empty config value reads as unset on both sides
	}
	for i, cfg := range configs {
		t.Run(fmt.Sprintf("config%d", i), func(t *testing.T) {
			po := instance(t, compile(t, ours, hostOpts{config: cfg}))
			pt := instance(t, compile(t, theirs, hostOpts{config: cfg}))
			for _, in := range inputs {
				got := mustCall(t, po, "count_vowels", []byte(in))
				want := mustCall(t, pt, "count_vowels", []byte(in))
				if !bytes.Equal(got, want) {
					t.Errorf("count_vowels(%.40q):\n ours   %s\n extism %s", in, got, want)
				}
			}
		})
	}

	// Invalid UTF-8 is an error on both sides.
	po := instance(t, compile(t, ours, hostOpts{}))
	pt := instance(t, compile(t, theirs, hostOpts{}))
	rcO, _, errO := call(po, "count_vowels", []byte{0xff, 'a'})
	rcT, _, errT := call(pt, "count_vowels", []byte{0xff, 'a'})
	if errO == nil || errT == nil {
		t.Errorf("invalid UTF-8: ours rc=%d err=%v, extism rc=%d err=%v; want errors from both", rcO, errO, rcT, errT)
	}
	t.Logf("invalid UTF-8: ours rc=%d %q; extism rc=%d %q", rcO, errO, int32(rcT), errT)
}

func TestPanicBecomesErrorAndInstanceSurvives(t *testing.T) {
	ours, _ := guest(t)
	p := instance(t, compile(t, ours, hostOpts{}))
	for i := 0; i < 20; i++ {
		rc, _, err := call(p, "panic", nil)
		if rc != 1 || err == nil {
			t.Fatalf("panic call %d: rc=%d err=%v, want rc=1 and an error", i, rc, err)
		}
		msg := err.Error()
		if !strings.HasPrefix(msg, "panic: assignment to entry in nil map") || !strings.Contains(msg, "main.panicExport") {
			t.Fatalf("panic error = %q, want the panic message and a stack naming main.panicExport", msg)
		}
		if i == 0 {
			t.Logf("error: %.200q…", msg)
		}
		// The same instance keeps working: no trap, no "module closed".
		if got := string(mustCall(t, p, "count_vowels", []byte("aeiou"))); !strings.HasPrefix(got, `{"count":5,`) {
			t.Fatalf("count_vowels after panic = %s", got)
		}
	}
}

func TestErrorReturned(t *testing.T) {
	ours, _ := guest(t)
	p := instance(t, compile(t, ours, hostOpts{}))
	rc, out, err := call(p, "fail", []byte("x"))
	if rc != 1 || err == nil || err.Error() != `fail: asked to fail with input "x"` || len(out) != 0 {
		t.Fatalf("fail: rc=%d out=%q err=%v", rc, out, err)
	}
	mustCall(t, p, "noop", nil)
}

// TestCrashNeedsNewInstance shows the failure Export cannot absorb: a panic
// on another goroutine exits the Go runtime and closes the module. The host
// replaces the instance; the compiled plugin and other instances are fine.
func TestCrashNeedsNewInstance(t *testing.T) {
	ours, _ := guest(t)
	cp := compile(t, ours, hostOpts{})
	bystander := instance(t, cp)
	p := instance(t, cp)
	_, _, err := call(p, "crash", nil)
	if err == nil {
		t.Fatal("crash: no error")
	}
	t.Logf("crash: %v", err)
	if _, _, err := call(p, "noop", nil); err == nil {
		t.Fatal("noop after crash succeeded; want the instance closed")
	}
	mustCall(t, instance(t, cp), "noop", nil)
	mustCall(t, bystander, "noop", nil)
}

// TestSpinStopsAtDeadline: a guest that never yields is stopped by the call's
// deadline (WithCloseOnContextDone), the host goroutine returns, the instance
// is closed, and a fresh instance works.
func TestSpinStopsAtDeadline(t *testing.T) {
	ours, _ := guest(t)
	cp := compile(t, ours, hostOpts{})
	p := instance(t, cp)
	mustCall(t, p, "noop", nil) // initialize the guest runtime first

	const deadline = 200 * time.Millisecond
	ctx, cancel := context.WithTimeout(context.Background(), deadline)
	defer cancel()
	start := time.Now()
	done := make(chan error, 1)
	go func() {
		_, _, err := p.CallWithContext(ctx, "spin", nil)
		done <- err
	}()
	select {
	case err := <-done:
		took := time.Since(start)
		if err == nil {
			t.Fatal("spin returned without error")
		}
		if took > deadline+2*time.Second {
			t.Errorf("spin returned after %v, deadline %v", took, deadline)
		}
		t.Logf("spin stopped after %v: %v", took.Round(time.Millisecond), err)
	case <-time.After(20 * time.Second):
		t.Fatal("spin did not return 20 s after its deadline")
	}
	if _, _, err := call(p, "noop", nil); err == nil {
		t.Error("noop on the timed-out instance succeeded; want it closed")
	}
	mustCall(t, instance(t, cp), "noop", nil)
}

// memProbe records the guest's linear memory size after each call of the
// listened exports. go-sdk does not expose the guest module, so this uses a
// wazero function listener, which is handed the calling module.
type memProbe struct{ bytes atomic.Uint32 }

func (m *memProbe) NewFunctionListener(def api.FunctionDefinition) experimental.FunctionListener {
	for _, n := range def.ExportNames() {
		if n == "garbage" || n == "garbage_no_yield" {
			return m
		}
	}
	return nil
}

func (m *memProbe) Before(context.Context, api.Module, api.FunctionDefinition, []uint64, experimental.StackIterator) {
}

func (m *memProbe) After(_ context.Context, mod api.Module, _ api.FunctionDefinition, _ []uint64) {
	m.bytes.Store(mod.Memory().Size())
}

func (m *memProbe) Abort(context.Context, api.Module, api.FunctionDefinition, error) {}

// TestGarbageMemoryBounded: 500 calls that each drop 1 MiB keep the guest
// under 64 MiB thanks to the Gosched in Export. The control export, without
// the yield, shows the trap the wrapper prevents.
func TestGarbageMemoryBounded(t *testing.T) {
	ours, _ := guest(t)
	probe := &memProbe{}
	ctx := experimental.WithFunctionListenerFactory(context.Background(), probe)
	cp := compile(t, ours, hostOpts{ctx: ctx})

	const limit = 64 << 20
	p := instance(t, cp)
	start := time.Now()
	var peak uint32
	for i := 0; i < 500; i++ {
		mustCall(t, p, "garbage", nil)
		peak = max(peak, probe.bytes.Load())
	}
	t.Logf("garbage ×500 in %v: guest memory %d pages (%d MiB), peak %d MiB",
		time.Since(start).Round(time.Millisecond), probe.bytes.Load()/65536, probe.bytes.Load()>>20, peak>>20)
	if peak == 0 || peak >= limit {
		t.Errorf("guest memory peaked at %d MiB, want < %d MiB", peak>>20, limit>>20)
	}

	// The control: the same export without the yield. With Go 1.26 the
	// guest stays flat for ~350 calls, then keeps every MiB it drops.
	p = instance(t, cp)
	start = time.Now()
	for i := 0; i < 500; i++ {
		mustCall(t, p, "garbage_no_yield", nil)
	}
	grown := probe.bytes.Load()
	t.Logf("control: garbage_no_yield ×500 in %v: guest memory %d MiB",
		time.Since(start).Round(time.Millisecond), grown>>20)
	if grown < limit {
		t.Errorf("control stayed at %d MiB: the test no longer reproduces the GC-starvation trap it guards against", grown>>20)
	}
}

// transform is the host side of cairn_test_transform: "host:" followed by the
// payload reversed.
func transform(in []byte) []byte {
	out := append([]byte("host:"), in...)
	for i, j := 5, len(out)-1; i < j; i, j = i+1, j-1 {
		out[i], out[j] = out[j], out[i]
	}
	return out
}

// transformHost defines cairn_test_transform in extism:host/user (go-sdk's
// default namespace), passing each payload it receives to seen if not nil.
func transformHost(seen func([]byte)) extism.HostFunction {
	return extism.NewHostFunctionWithStack("cairn_test_transform",
		func(ctx context.Context, p *extism.CurrentPlugin, stack []uint64) {
			in, err := p.ReadBytes(stack[0])
			if err != nil {
				panic(err)
			}
			if seen != nil {
				seen(in)
			}
			off, err := p.WriteBytes(transform(in))
			if err != nil {
				panic(err)
			}
			stack[0] = off
		},
		[]extism.ValueType{extism.ValueTypePTR}, []extism.ValueType{extism.ValueTypePTR})
}

func TestHostFunctionRoundTrip(t *testing.T) {
	ours, _ := guest(t)
	var seen [][]byte
	fn := transformHost(func(in []byte) { seen = append(seen, in) })
	p := instance(t, compile(t, ours, hostOpts{transform: &fn}))

	rng := rand.New(rand.NewPCG(1, 2))
	payloads := [][]byte{nil, []byte("a"), []byte("1234567"), []byte("12345678"), []byte("123456789"), []byte("héllo, host")}
	for _, n := range []int{1000, 64 << 10, 1 << 20} {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(rng.Uint32())
		}
		payloads = append(payloads, b)
	}
	for _, in := range payloads {
		seen = nil
		start := time.Now()
		out := mustCall(t, p, "echo_host", in)
		if len(seen) != 1 || !bytes.Equal(seen[0], in) {
			t.Fatalf("host saw %d payloads, want exactly the %d-byte input", len(seen), len(in))
		}
		if want := transform(in); !bytes.Equal(out, want) {
			t.Fatalf("echo_host(%d bytes) = %.40q…, want %.40q…", len(in), out, want)
		}
		if len(in) >= 1<<20 {
			t.Logf("1 MiB round trip (input→guest→host→guest→output) in %v", time.Since(start).Round(time.Millisecond))
		}
	}
}

// TestEchoChunkBoundaries moves every length around the 8-byte chunking
// through the real kernel, both ways.
func TestEchoChunkBoundaries(t *testing.T) {
	ours, _ := guest(t)
	p := instance(t, compile(t, ours, hostOpts{}))
	for n := 0; n <= 40; n++ {
		in := make([]byte, n)
		for i := range in {
			in[i] = byte(0xA0 + i)
		}
		if out := mustCall(t, p, "echo", in); !bytes.Equal(out, in) {
			t.Fatalf("echo(%d bytes) = %x, want %x", n, out, in)
		}
	}
}

func TestConfigVarsAndLog(t *testing.T) {
	ours, _ := guest(t)
	p := instance(t, compile(t, ours, hostOpts{config: map[string]string{"colour": "blue"}}))
	var logs []string
	p.SetLogger(func(l extism.LogLevel, msg string) { logs = append(logs, l.String()+" "+msg) })
	extism.SetLogLevel(extism.LogLevelInfo) // process-wide in go-sdk
	defer extism.SetLogLevel(extism.LogLevelOff)

	if got, want := string(mustCall(t, p, "config_var", []byte("colour"))), "colour=blue|var="; got != want {
		t.Errorf("first call = %q, want %q", got, want)
	}
	if got, want := string(mustCall(t, p, "config_var", []byte("size"))), "size=<unset>|var=colour"; got != want {
		t.Errorf("second call = %q, want %q", got, want)
	}
	if got, want := string(p.Var["last"]), "size"; got != want {
		t.Errorf("host-side var last = %q, want %q", got, want)
	}
	if want := []string{"INFO config_var: colour", "INFO config_var: size"}; fmt.Sprint(logs) != fmt.Sprint(want) {
		t.Errorf("logs = %q, want %q", logs, want)
	}

	extism.SetLogLevel(extism.LogLevelError)
	logs = nil
	mustCall(t, p, "config_var", []byte("colour"))
	if len(logs) != 0 {
		t.Errorf("info logged while the host level is error: %q", logs)
	}
}

func TestJSONHelpers(t *testing.T) {
	ours, _ := guest(t)
	p := instance(t, compile(t, ours, hostOpts{}))
	if got, want := string(mustCall(t, p, "json_double", []byte(`{"n":21}`))), `{"n":42}`; got != want {
		t.Errorf("json_double = %s, want %s", got, want)
	}
	_, _, err := call(p, "json_double", []byte(`{"n":`))
	if err == nil || !strings.HasPrefix(err.Error(), "pdk: decode input:") {
		t.Errorf("json_double(bad json) err = %v", err)
	}
}

// BenchmarkCall measures go-sdk's per-call overhead on our guest. noop goes
// through pdk.Export (recover + Gosched); noop_raw is a bare export.
// extism_count_vowels is go-sdk's Rust-built plugin, for comparison.
func BenchmarkCall(b *testing.B) {
	ours, theirs := guest(b)
	cpOurs := compile(b, ours, hostOpts{})
	cpTheirs := compile(b, theirs, hostOpts{})
	payload := bytes.Repeat([]byte("a"), 1031)
	for _, bc := range []struct {
		name  string
		cp    *extism.CompiledPlugin
		fn    string
		input []byte
	}{
		{"noop", cpOurs, "noop", nil},
		{"noop_raw", cpOurs, "noop_raw", nil},
		{"echo_7B", cpOurs, "echo", payload[:7]},
		{"echo_8B", cpOurs, "echo", payload[:8]},
		{"echo_1024B", cpOurs, "echo", payload[:1024]},
		{"echo_1031B", cpOurs, "echo", payload},
		{"count_vowels_1024B", cpOurs, "count_vowels", payload[:1024]},
		{"extism_count_vowels_1024B", cpTheirs, "count_vowels", payload[:1024]},
	} {
		b.Run(bc.name, func(b *testing.B) {
			p := instance(b, bc.cp)
			mustCall(b, p, bc.fn, bc.input)
			ctx := context.Background()
			for b.Loop() {
				if rc, _, err := p.CallWithContext(ctx, bc.fn, bc.input); err != nil || rc != 0 {
					b.Fatal(rc, err)
				}
			}
		})
	}
}
