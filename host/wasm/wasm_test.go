package wasm_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cairnfs/cairn/host/capability"
	"github.com/cairnfs/cairn/host/datafs"
	"github.com/cairnfs/cairn/host/ext"
	"github.com/cairnfs/cairn/host/internal/hosttest"
	"github.com/cairnfs/cairn/host/wasm"
	"github.com/cairnfs/cairn/schemas/manifest"
)

func TestMain(m *testing.M) { os.Exit(hosttest.Main(m)) }

func runtime(t *testing.T) *wasm.Runtime {
	t.Helper()
	rt, err := wasm.NewRuntime(wasm.Config{CacheDir: hosttest.CacheDir(t)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rt.Close(context.Background()) })
	return rt
}

func load(t *testing.T, rt *wasm.Runtime, spec wasm.ModuleSpec) *wasm.Module {
	t.Helper()
	m, err := rt.Load(context.Background(), spec)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close(context.Background()) })
	return m
}

func run(t *testing.T, m *wasm.Module, export, input string) ([]byte, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	return m.Run(ctx, export, []byte(input))
}

// logBuffer is a concurrency-safe log sink.
type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func TestPolicies(t *testing.T) {
	rt := runtime(t)
	var logs logBuffer
	m := load(t, rt, wasm.ModuleSpec{Name: "dev.test.hostile", Wasm: hosttest.Guest(t, "hostile"),
		Logger: slog.New(slog.NewTextHandler(&logs, nil))})

	t.Run("real clock and randomness", func(t *testing.T) {
		a, err := run(t, m, "clock", "")
		if err != nil {
			t.Fatal(err)
		}
		sec, rnd, _ := strings.Cut(string(a), " ")
		if n, _ := strconv.ParseInt(sec, 10, 64); time.Since(time.Unix(n, 0)).Abs() > time.Minute {
			t.Errorf("guest clock says %s, host %d", sec, time.Now().Unix())
		}
		// A second instance must not draw the same bytes.
		m2 := load(t, rt, wasm.ModuleSpec{Name: "dev.test.hostile2", Wasm: hosttest.Guest(t, "hostile")})
		b, _ := run(t, m2, "clock", "")
		if _, rnd2, _ := strings.Cut(string(b), " "); rnd == rnd2 {
			t.Errorf("two instances drew the same random bytes %s", rnd)
		}
	})

	t.Run("stdout and stderr reach the logger", func(t *testing.T) {
		if _, err := run(t, m, "chatter", ""); err != nil {
			t.Fatal(err)
		}
		for _, want := range []string{"hello from stdout", "hello from stderr", "hello from pdk.Log"} {
			if !strings.Contains(logs.String(), want) {
				t.Errorf("logs lack %q:\n%s", want, logs.String())
			}
		}
	})

	t.Run("no ambient filesystem", func(t *testing.T) {
		if _, err := run(t, m, "readfile", "/etc/passwd"); !errors.Is(err, ext.ErrGuest) {
			t.Errorf("reading /etc/passwd: %v", err)
		}
		if _, err := run(t, m, "listdir", "/"); !errors.Is(err, ext.ErrGuest) {
			t.Errorf("listing /: %v", err)
		}
	})

	t.Run("sleep ends at the deadline", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		defer cancel()
		start := time.Now()
		_, err := m.Run(ctx, "sleep", nil)
		if !errors.Is(err, ext.ErrDeadline) || time.Since(start) > 5*time.Second {
			t.Fatalf("sleep: %v after %v", err, time.Since(start))
		}
	})
}

func TestHostileDataMountIsReadOnly(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "a.txt"), []byte("alpha"), 0o644)
	os.WriteFile(filepath.Join(dir, "b.bin"), []byte("beta"), 0o644)
	caps, err := capability.Effective(&manifest.Manifest{ID: "dev.test.ro", Capabilities: map[string]manifest.Scope{"content.read": {}}},
		capability.Grant{"content.read": {Locations: []string{"L"}, Globs: []string{"*.txt"}}})
	if err != nil {
		t.Fatal(err)
	}
	files := datafs.New(caps.Files(capability.ContentRead), []datafs.Location{{UUID: "L", Path: dir}})
	m := load(t, runtime(t), wasm.ModuleSpec{Name: "dev.test.ro", Wasm: hosttest.Guest(t, "hostile"), Files: files})

	if out, err := run(t, m, "readfile", "/data/L/a.txt"); err != nil || string(out) != "alpha" {
		t.Fatalf("read a.txt = %q, %v", out, err)
	}
	if out, err := run(t, m, "listdir", "/data/L"); err != nil || string(out) != "a.txt" {
		t.Errorf("listdir = %q, %v", out, err)
	}
	if _, err := run(t, m, "readfile", "/data/L/b.bin"); err == nil || !strings.Contains(err.Error(), "not permitted") {
		t.Errorf("read b.bin (out of scope): %v", err)
	}
	out, err := run(t, m, "writefile", "/data/L/a.txt")
	if err != nil || strings.Contains(string(out), "write: ok") || strings.Contains(string(out), "remove: ok") {
		t.Errorf("writefile = %q, %v", out, err)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "a.txt")); string(b) != "alpha" {
		t.Errorf("a.txt is now %q", b)
	}
	t.Logf("write attempt: %s", out)
}

func TestPool(t *testing.T) {
	m := load(t, runtime(t), wasm.ModuleSpec{Name: "dev.test.pool", Wasm: hosttest.Guest(t, "hostile"),
		Limits: wasm.Limits{PoolSize: 2, MemoryBudget: 48 << 20}})

	t.Run("concurrent calls share at most PoolSize instances", func(t *testing.T) {
		var wg sync.WaitGroup
		errs := make(chan error, 8)
		for i := 0; i < 8; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if out, err := run(t, m, "echo", strconv.Itoa(i)); err != nil || string(out) != strconv.Itoa(i) {
					errs <- err
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Error(err)
		}
		if s := m.Stats(); s.Created > 2 || s.Busy != 0 {
			t.Errorf("stats = %+v", s)
		}
	})

	t.Run("an instance over its memory budget is recycled", func(t *testing.T) {
		before := m.Stats()
		if _, err := run(t, m, "grow", "64"); err != nil {
			t.Fatal(err)
		}
		if s := m.Stats(); s.Recycled != before.Recycled+1 || s.Discarded != before.Discarded {
			t.Errorf("stats = %+v (before %+v)", s, before)
		}
		if _, err := run(t, m, "noop", ""); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("a trap discards the instance and the next call gets a new one", func(t *testing.T) {
		before := m.Stats()
		_, err := run(t, m, "panic_raw", "")
		if !errors.Is(err, ext.ErrTrap) {
			t.Fatalf("panic_raw: %v", err)
		}
		t.Log(err)
		for i := 0; i < 3; i++ {
			if _, err := run(t, m, "noop", ""); err != nil {
				t.Fatalf("noop after a trap: %v", err)
			}
		}
		if s := m.Stats(); s.Discarded != before.Discarded+1 {
			t.Errorf("stats = %+v (before %+v)", s, before)
		}
	})

	t.Run("unknown export", func(t *testing.T) {
		if _, err := run(t, m, "nope", ""); !errors.Is(err, ext.ErrNoExport) {
			t.Errorf("nope: %v", err)
		}
	})
}

func TestInit(t *testing.T) {
	m := load(t, runtime(t), wasm.ModuleSpec{Name: "dev.test.init", Wasm: hosttest.Guest(t, "wordcount"),
		Init: []byte(`{"abi":"1.0","extension":"dev.test.init","config":{}}`)})
	out, err := run(t, m, "init_input", "")
	if err != nil || string(out) != `{"abi":"1.0","extension":"dev.test.init","config":{}}` {
		t.Fatalf("init_input = %q, %v", out, err)
	}
}

func TestWarmLoadUsesTheCache(t *testing.T) {
	dir := t.TempDir()
	wasmBytes := hosttest.Guest(t, "wordcount")
	loadIn := func() time.Duration {
		rt, err := wasm.NewRuntime(wasm.Config{CacheDir: dir}) // a new runtime: as after a restart
		if err != nil {
			t.Fatal(err)
		}
		defer rt.Close(context.Background())
		start := time.Now()
		m, err := rt.Load(context.Background(), wasm.ModuleSpec{Name: "dev.test.cache", Wasm: wasmBytes})
		if err != nil {
			t.Fatal(err)
		}
		took := time.Since(start)
		m.Close(context.Background())
		return took
	}
	// What the cache holds on disk (path, size, mtime): a cold load writes compiled code, a warm
	// load reads it and writes nothing. Timings are only logged: they prove nothing on a busy machine.
	files := func() string {
		var b strings.Builder
		err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			fi, err := d.Info()
			if err != nil {
				return err
			}
			fmt.Fprintf(&b, "%s %d %d\n", p, fi.Size(), fi.ModTime().UnixNano())
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		return b.String()
	}
	cold := loadIn()
	afterCold := files()
	if afterCold == "" {
		t.Fatal("a cold load wrote nothing into the cache directory")
	}
	warm := loadIn()
	t.Logf("cold load %v, warm load %v", cold, warm)
	if afterWarm := files(); afterWarm != afterCold {
		t.Errorf("a warm load rewrote the cache (the compiled module was not found in it):\nafter the cold load:\n%safter the warm load:\n%s", afterCold, afterWarm)
	}
}

// TestPoolMemory: the instances of a module share one memory cap (a second instance cannot
// take what the first holds), and what closed instances held is given back to the pool, after
// a clean close, a trap or a cancelled call alike.
func TestPoolMemory(t *testing.T) {
	m := load(t, runtime(t), wasm.ModuleSpec{Name: "dev.test.poolmem", Wasm: hosttest.Guest(t, "hostile"),
		Limits: wasm.Limits{PoolSize: 2, MemoryLimitPages: 2048, MemoryBudget: 1 << 30}}) // 128 MiB for the pool
	if _, err := run(t, m, "grow", "80"); err != nil { // one instance keeps 80 MiB
		t.Fatal(err)
	}
	// Keep that instance busy, so that the next call needs a second one.
	ctx, cancel := context.WithCancel(context.Background())
	spun := make(chan error, 1)
	go func() { _, err := m.Run(ctx, "spin", nil); spun <- err }()
	for m.Stats().Busy != 1 {
		time.Sleep(time.Millisecond)
	}
	_, err := run(t, m, "grow", "80")
	if !errors.Is(err, ext.ErrMemoryLimit) || !strings.Contains(err.Error(), "instances together") {
		t.Errorf("80 MiB on a second instance while the first holds 80 of 128: %v", err)
	}
	t.Log(err)
	cancel()
	if err := <-spun; !errors.Is(err, ext.ErrDeadline) {
		t.Errorf("cancelled spin: %v", err)
	}
	if _, err := run(t, m, "grow", "80"); err != nil {
		t.Fatalf("80 MiB once the first instance is gone: %v", err)
	}
	if _, err := run(t, m, "panic_raw", ""); !errors.Is(err, ext.ErrTrap) {
		t.Fatal(err)
	}
	m.DropIdle(context.Background())
	if s := m.Stats(); s.MemoryBytes != 0 || s.Idle != 0 {
		t.Errorf("after every instance closed: %+v, want no memory held", s)
	}
}
