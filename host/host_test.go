package host_test

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cairnfs/cairn/core/index"
	"github.com/cairnfs/cairn/core/jobs"
	"github.com/cairnfs/cairn/core/pipeline"
	"github.com/cairnfs/cairn/core/store"
	"github.com/cairnfs/cairn/host"
	"github.com/cairnfs/cairn/host/abi"
	"github.com/cairnfs/cairn/host/capability"
	"github.com/cairnfs/cairn/host/ext"
	"github.com/cairnfs/cairn/host/internal/hosttest"
	"github.com/cairnfs/cairn/host/wasm"
	"github.com/cairnfs/cairn/schemas/manifest"
)

func TestMain(m *testing.M) { os.Exit(hosttest.Main(m)) }

func manifestFor(id string, caps map[string]manifest.Scope, stages ...manifest.Stage) *manifest.Manifest {
	return &manifest.Manifest{ID: id, Name: id, Version: "1.0.0", ABI: ">=1.0, <2.0", Kind: manifest.KindWASM,
		Entry: manifest.Entry{File: "ext.wasm"}, Capabilities: caps, Contributes: manifest.Contributions{Stages: stages}}
}

// world is a library with two locations, a host, and a well-behaved extension loaded in it.
type world struct {
	logs    *logCounter
	lib     *hosttest.Library
	h       *host.Host
	good    *host.Extension
	public  string // location uuids
	private string
}

func newWorld(t *testing.T) *world {
	t.Helper()
	lib := hosttest.NewLibrary(t, map[string]map[string]string{
		"public":  {"a.txt": "alpha beta gamma", "notes/b.txt": "one two", "notes/c.bin": "binary"},
		"private": {"diary.txt": "dear diary, nobody reads this"},
	})
	logs := &logCounter{by: map[string]int64{}}
	h, err := host.New(host.Config{Store: lib.Store, LibraryDir: lib.Dir, DeviceID: lib.DeviceID, CacheDir: hosttest.CacheDir(t),
		Logger: slog.New(countHandler{c: logs}), Trampoline: hosttest.Trampoline(t)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close(context.Background()) })
	w := &world{logs: logs, lib: lib, h: h, public: lib.Locations["public"].UUID, private: lib.Locations["private"].UUID}
	w.good, err = h.Load(context.Background(), host.Spec{
		Manifest: manifestFor("dev.test.good",
			map[string]manifest.Scope{"content.read": {Globs: []string{"**/*.txt"}}, "kv": {}},
			manifest.Stage{ID: "stage.wordcount", Export: "count_words", Version: 1},
			manifest.Stage{ID: "stage.guesstype", Export: "guess_type", Version: 1}),
		Wasm:  hosttest.Guest(t, "wordcount"),
		Grant: capability.Grant{"content.read": {Locations: []string{w.public}}, "kv": {}},
	})
	if err != nil {
		t.Fatal(err)
	}
	return w
}

// hostile loads the hostile guest as dev.test.hostile.<name>: it requests content.read of
// **/*.txt and entries.read, and is granted content.read in the public location's notes/ only.
func (w *world) hostile(t *testing.T, name string, limits host.Limits) *host.Extension {
	t.Helper()
	x, err := w.h.Load(context.Background(), host.Spec{
		Manifest: manifestFor("dev.test.hostile."+name,
			map[string]manifest.Scope{"content.read": {Globs: []string{"**/*.txt"}}, "entries.read": {}}),
		Wasm:   hosttest.Guest(t, "hostile"),
		Grant:  capability.Grant{"content.read": {Locations: []string{w.public}, Globs: []string{"notes/**"}}, "entries.read": {Locations: []string{w.public}}},
		Limits: limits,
	})
	if err != nil {
		t.Fatal(err)
	}
	w.unloadAtEnd(t, x)
	return x
}

func call(x *host.Extension, export, input string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	return x.Call(ctx, export, []byte(input))
}

// hostCall makes x send one host ABI request from inside the guest and returns the response.
func hostCall(t *testing.T, x *host.Extension, fn string, args any) (json.RawMessage, *abi.Error) {
	t.Helper()
	a, _ := json.Marshal(args)
	req, _ := json.Marshal(abi.Request{Fn: fn, Args: a})
	out, err := call(x, "hostcall", string(req))
	if err != nil {
		t.Fatalf("hostcall %s: %v", fn, err)
	}
	var r struct {
		OK    json.RawMessage `json:"ok"`
		Error *abi.Error      `json:"error"`
	}
	if err := json.Unmarshal(out, &r); err != nil {
		t.Fatalf("hostcall %s: response %q: %v", fn, out, err)
	}
	return r.OK, r.Error
}

// assertGood checks that the well-behaved extension still works: its stage counts words through
// its /data mount, and its host calls succeed.
func (w *world) assertGood(t *testing.T) {
	t.Helper()
	st, err := w.h.Registry().Stage("stage.wordcount")
	if err != nil {
		t.Fatal(err)
	}
	var items []pipeline.Item
	for _, k := range []string{"public/a.txt", "public/notes/b.txt", "private/diary.txt"} {
		f := w.lib.Files[k]
		items = append(items, pipeline.Item{ContentID: f.ContentID, ContentUUID: f.ContentUUID, CasID: f.CasID, Size: f.Size, Path: f.Abs})
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := st.Process(ctx, items)
	if err != nil {
		t.Fatalf("the good extension's stage failed: %v", err)
	}
	if len(out) != 3 || out[0].Err != nil || out[1].Err != nil || out[0].Apply == nil {
		t.Fatalf("the good extension's outcomes = %+v", out)
	}
	if out[2].Err == nil || !strings.Contains(out[2].Err.Error(), "no readable path") { // private is not granted to it either
		t.Errorf("the good extension read a file of a location it was not granted: %+v", out[2])
	}
	if _, e := hostCall(t, w.good, "kv.set", map[string]any{"key": "alive", "value": "eWVz"}); e != nil {
		t.Fatalf("the good extension's host call failed: %+v", e)
	}
	if w.good.Disabled() {
		t.Fatal("the good extension is disabled")
	}
}

func TestHostileExtensions(t *testing.T) {
	w := newWorld(t)
	w.assertGood(t)

	t.Run("infinite loop is stopped at its deadline", func(t *testing.T) {
		x := w.hostile(t, "spin", host.Limits{Call: ext.Limits{Timeout: 300 * time.Millisecond}})
		if _, err := call(x, "noop", ""); err != nil { // the guest runtime is initialised
			t.Fatal(err)
		}
		done := make(chan error, 1)
		start := time.Now()
		go func() { _, err := call(x, "spin", ""); done <- err }()
		select {
		case err := <-done:
			if !errors.Is(err, ext.ErrDeadline) {
				t.Fatalf("spin: %v", err)
			}
			t.Logf("spin stopped after %v: %v", time.Since(start).Round(time.Millisecond), err)
		case <-time.After(15 * time.Second):
			t.Fatal("the host goroutine did not return 15 s after the deadline")
		}
		if _, err := call(x, "noop", ""); err != nil {
			t.Fatalf("noop after the timeout (on a new instance): %v", err)
		}
		if s := x.Module.Stats(); s.Discarded != 1 {
			t.Errorf("pool = %+v, want 1 discarded instance", s)
		}
		w.assertGood(t)
	})

	t.Run("sleeping guest is stopped at its deadline", func(t *testing.T) {
		x := w.hostile(t, "sleep", host.Limits{Call: ext.Limits{Timeout: 300 * time.Millisecond}})
		start := time.Now()
		if _, err := call(x, "sleep", ""); !errors.Is(err, ext.ErrDeadline) || time.Since(start) > 10*time.Second {
			t.Fatalf("sleep: %v after %v", err, time.Since(start))
		}
		w.assertGood(t)
	})

	t.Run("memory bomb is stopped at the page limit", func(t *testing.T) {
		x := w.hostile(t, "membomb", host.Limits{WASM: wasm.Limits{MemoryLimitPages: 1024}})
		_, err := call(x, "membomb", "")
		if !errors.Is(err, ext.ErrMemoryLimit) {
			t.Fatalf("membomb: %v", err)
		}
		t.Log(err)
		if _, err := call(x, "noop", ""); err != nil {
			t.Fatalf("noop after the memory fault: %v", err)
		}
		if s := x.Stats(); s.MemoryLimits != 1 {
			t.Errorf("stats = %+v", s)
		}
		w.assertGood(t)
	})

	t.Run("memory bombs on every pooled instance keep the host's RSS bounded", func(t *testing.T) {
		// Default limits (256 MiB per instance) and four instances bombing at once: the pool's
		// memories together stay under one instance's limit, outside the Go heap, so the host
		// grows by about that much (it grew by over 1.4 GB before).
		x := w.hostile(t, "poolbomb", host.Limits{WASM: wasm.Limits{PoolSize: 4}, Call: ext.Limits{Timeout: 2 * time.Minute}})
		if _, err := call(x, "noop", ""); err != nil {
			t.Fatal(err)
		}
		resetPeakRSS(t)
		before, _ := rss(t)
		errs := make(chan error, 4)
		for i := 0; i < 4; i++ {
			go func() { _, err := x.Call(context.Background(), "pagebomb", nil); errs <- err }()
		}
		for i := 0; i < 4; i++ {
			if err := <-errs; !errors.Is(err, ext.ErrMemoryLimit) {
				t.Errorf("pagebomb %d: %v", i, err)
			}
		}
		after, peak := rss(t)
		t.Logf("host RSS %d MiB before, peak %d MiB, %d MiB after", before>>20, peak>>20, after>>20)
		if grew := peak - before; grew > 256<<20+128<<20 {
			t.Errorf("host RSS grew by %d MiB during the bombs, want at most 384 MiB", grew>>20)
		}
		w.assertGood(t)
	})

	t.Run("ungranted host function is capability_denied and audited", func(t *testing.T) {
		x := w.hostile(t, "nokv", host.Limits{})
		before := w.h.Dispatcher().Denied()
		_, e := hostCall(t, x, "kv.set", map[string]any{"key": "k", "value": "AA=="})
		if e == nil || e.Code != abi.CodeCapabilityDenied || e.Message != "dev.test.hostile.nokv: kv is not granted (requested: no; granted: no)" {
			t.Fatalf("kv.set: %+v", e)
		}
		var n int
		w.lib.Store.SQL().QueryRow(`SELECT count(*) FROM audit_log WHERE actor = ? AND action = 'hostcall kv.set' AND outcome = 'denied'`, x.ID()).Scan(&n)
		if n != 1 {
			t.Errorf("audit rows = %d, want 1", n)
		}
		if x.Caller.Stats().Denied != 1 || w.h.Dispatcher().Denied() != before+1 {
			t.Errorf("denial counters: caller %+v, dispatcher %d (before %d)", x.Caller.Stats(), w.h.Dispatcher().Denied(), before)
		}
		if _, e := hostCall(t, x, "fs.delete_everything", map[string]any{}); e == nil || e.Code != abi.CodeUnknownFunction {
			t.Errorf("unknown function: %+v", e)
		}
		w.assertGood(t)
	})

	t.Run("reads outside the granted locations and globs are denied", func(t *testing.T) {
		x := w.hostile(t, "reader", host.Limits{})
		// Through the /data mount.
		if out, err := call(x, "readfile", "/data/"+w.public+"/notes/b.txt"); err != nil || string(out) != "one two" {
			t.Fatalf("granted file: %q, %v", out, err)
		}
		for _, p := range []string{
			"/data/" + w.public + "/a.txt",                          // granted location, glob not granted
			"/data/" + w.public + "/notes/c.bin",                    // granted glob, not requested
			"/data/" + w.private + "/diary.txt",                     // location not granted
			"/data/" + w.public + "/../" + w.private + "/diary.txt", // escape attempt
			w.lib.Files["private/diary.txt"].Abs,                    // the host path
			"/etc/passwd",
		} {
			if out, err := call(x, "readfile", p); !errors.Is(err, ext.ErrGuest) {
				t.Errorf("readfile %s = %q, %v; want a refusal", p, out, err)
			}
		}
		if out, err := call(x, "listdir", "/data"); err != nil || string(out) != w.public {
			t.Errorf("listdir /data = %q, %v", out, err)
		}
		if out, err := call(x, "listdir", "/data/"+w.public); err != nil || string(out) != "notes" {
			t.Errorf("listdir of the location = %q, %v", out, err)
		}
		// Through content.read.
		ok, e := hostCall(t, x, "content.read", map[string]any{"entry_id": w.lib.Files["public/notes/b.txt"].EntryID, "length": 100})
		if e != nil || string(ok) != `{"data":"b25lIHR3bw==","eof":true}` {
			t.Fatalf("content.read of a granted file: %s %+v", ok, e)
		}
		for _, k := range []string{"public/a.txt", "private/diary.txt"} {
			if _, e := hostCall(t, x, "content.read", map[string]any{"entry_id": w.lib.Files[k].EntryID, "length": 100}); e == nil || e.Code != abi.CodeCapabilityDenied {
				t.Errorf("content.read of %s: %+v", k, e)
			} else {
				t.Log(e.Message)
			}
		}
		// And entries.query only lists the granted location.
		ok, e = hostCall(t, x, "entries.query", map[string]any{"kind": "file"})
		if e != nil || strings.Contains(string(ok), w.private) || !strings.Contains(string(ok), "a.txt") {
			t.Errorf("entries.query = %s %+v", ok, e)
		}
		w.assertGood(t)
	})

	t.Run("content.read outside the scope answers alike whether or not the file exists", func(t *testing.T) {
		x := w.hostile(t, "oracle", host.Limits{})
		ask := func(arg string, v any) *abi.Error {
			_, e := hostCall(t, x, "content.read", map[string]any{arg: v, "length": 10})
			if e == nil {
				t.Fatalf("content.read %s=%v was answered", arg, v)
			}
			for _, leak := range []string{w.private, w.public, "diary", "a.txt", w.lib.Dir, "/data/"} {
				if strings.Contains(e.Message, leak) {
					t.Errorf("content.read %s=%v: %q names %q", arg, v, e.Message, leak)
				}
			}
			return e
		}
		// The answer with the argument taken out is the same for every case.
		norm := func(e *abi.Error, ref string) string {
			return e.Code + ": " + strings.Replace(e.Message, ref, "<ref>", 1)
		}
		diary, other := w.lib.Files["private/diary.txt"], w.lib.Files["public/a.txt"]
		want := norm(ask("entry_id", diary.EntryID), itoa(int(diary.EntryID)))
		t.Log(want)
		for _, id := range []int64{other.EntryID, 987654} {
			if got := norm(ask("entry_id", id), itoa(int(id))); got != want {
				t.Errorf("entry %d: %q, want %q", id, got, want)
			}
		}
		for _, u := range []string{diary.ContentUUID, "00000000-0000-4000-8000-000000000000"} {
			if got := norm(ask("content_uuid", u), u); got != strings.Replace(want, "entry <ref>", "content <ref>", 1) {
				t.Errorf("content %s: %q, want %q", u, got, want)
			}
		}
		w.assertGood(t)
	})

	t.Run("output over the cap is refused", func(t *testing.T) {
		x := w.hostile(t, "flood", host.Limits{Call: ext.Limits{MaxOutput: 1 << 20}})
		if _, err := call(x, "bigoutput", "2097152"); !errors.Is(err, ext.ErrOutputTooLarge) {
			t.Fatalf("2 MiB output: %v", err)
		}
		if out, err := call(x, "bigoutput", "1000"); err != nil || len(out) != 1000 {
			t.Fatalf("1000-byte output: %d, %v", len(out), err)
		}
		w.assertGood(t)
	})

	t.Run("panicking guest fails cleanly and its instance is replaced", func(t *testing.T) {
		x := w.hostile(t, "panic", host.Limits{})
		for i, export := range []string{"panic", "panic_raw", "crash"} {
			_, err := call(x, export, "")
			if !errors.Is(err, ext.ErrTrap) {
				t.Fatalf("%s: %v", export, err)
			}
			t.Logf("%s: %v", export, err)
			if s := x.Module.Stats(); s.Discarded != uint64(i+1) {
				t.Errorf("after %s: pool = %+v, want %d discarded", export, s, i+1)
			}
			if _, err := call(x, "noop", ""); err != nil {
				t.Fatalf("noop after %s: %v", export, err)
			}
		}
		if x.Disabled() {
			t.Error("disabled although every fault was followed by a success")
		}
		w.assertGood(t)
	})

	t.Run("repeated faults disable it", func(t *testing.T) {
		x := w.hostile(t, "faulty", host.Limits{Call: ext.Limits{MaxConsecutiveFaults: 3}})
		for i := 0; i < 3; i++ {
			if _, err := call(x, "panic_raw", ""); !errors.Is(err, ext.ErrTrap) {
				t.Fatalf("fault %d: %v", i, err)
			}
		}
		_, err := call(x, "noop", "")
		if !errors.Is(err, ext.ErrDisabled) || !strings.Contains(err.Error(), "panic_raw: trapped") {
			t.Fatalf("call while disabled: %v", err)
		}
		t.Log(err)
		w.assertGood(t)
		x.Enable()
		if _, err := call(x, "noop", ""); err != nil {
			t.Fatalf("noop after Enable: %v", err)
		}
	})

	t.Run("host calls over the rate limit get limit_exceeded", func(t *testing.T) {
		x := w.hostile(t, "chatty", host.Limits{HostCallRate: 0.001, HostCallBurst: 3})
		for i := 0; i < 3; i++ {
			if _, e := hostCall(t, x, "config.get", map[string]any{}); e != nil {
				t.Fatalf("call %d: %+v", i, e)
			}
		}
		if _, e := hostCall(t, x, "config.get", map[string]any{}); e == nil || e.Code != abi.CodeLimitExceeded {
			t.Fatalf("4th call: %+v", e)
		}
		w.assertGood(t)
	})

	if s := w.good.Stats(); s.Deadlines+s.MemoryLimits+s.Outputs+s.Traps != 0 || s.Disabled {
		t.Errorf("the good extension was affected: %+v", s)
	}
}

func TestLoadChecks(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	load := func(m *manifest.Manifest) error {
		_, err := w.h.Load(ctx, host.Spec{Manifest: m, Wasm: hosttest.Guest(t, "hostile")})
		return err
	}
	m := manifestFor("dev.test.future", nil)
	m.ABI = ">=2.0"
	if err := load(m); !errors.Is(err, host.ErrABIMismatch) || !strings.Contains(err.Error(), "needs host ABI >=2.0; this cairn provides "+abi.Version+": upgrade cairn") {
		t.Errorf("future ABI: %v", err)
	}
	m = manifestFor("dev.test.past", nil)
	m.ABI = "<1.0"
	if err := load(m); !errors.Is(err, host.ErrABIMismatch) || !strings.Contains(err.Error(), "upgrade the extension") {
		t.Errorf("past ABI: %v", err)
	}
	m = manifestFor("dev.test.hash", nil)
	m.Entry.BLAKE3 = strings.Repeat("0", 64)
	if err := load(m); err == nil || !strings.Contains(err.Error(), "the manifest pins") {
		t.Errorf("hash mismatch: %v", err)
	}
	m = manifestFor("dev.test.dup", nil, manifest.Stage{ID: "stage.wordcount", Export: "noop", Version: 1})
	if err := load(m); err == nil || !strings.Contains(err.Error(), "already registered by wasm extension dev.test.good") {
		t.Errorf("duplicate stage id: %v", err)
	}
	if _, ok := w.h.Get("dev.test.dup"); ok {
		t.Error("an extension whose modules were refused stayed loaded")
	}
	m = manifestFor("dev.test.noexport", nil, manifest.Stage{ID: "stage.other", Export: "not_there", Version: 1})
	if err := load(m); err == nil || !strings.Contains(err.Error(), `"not_there"`) {
		t.Errorf("missing export: %v", err)
	}

	// Config is validated against the manifest's JSON Schema.
	m = manifestFor("dev.test.config", nil)
	m.Config = map[string]any{"type": "object", "properties": map[string]any{"min": map[string]any{"type": "integer", "minimum": 1}},
		"additionalProperties": false}
	loadCfg := func(cfg string) error {
		_, err := w.h.Load(ctx, host.Spec{Manifest: m, Wasm: hosttest.Guest(t, "hostile"), Config: json.RawMessage(cfg)})
		return err
	}
	if err := loadCfg(`{"min": 0}`); err == nil || !strings.Contains(err.Error(), "does not match its schema") {
		t.Errorf("config below its schema's minimum: %v", err)
	}
	if err := loadCfg(`{"mni": 3}`); err == nil {
		t.Error("config with an unknown key accepted")
	}
	if err := loadCfg(`{"min": 3}`); err != nil {
		t.Errorf("valid config: %v", err)
	}
	// Owned models: tables created by the kernel, only with models.own granted.
	m = manifestFor("dev.test.models", nil)
	m.Models = []manifest.Model{{Name: "faces", Columns: []manifest.Column{{Name: "box", Type: "text"}, {Name: "score", Type: "real", Index: true}}}}
	m.Capabilities = map[string]manifest.Scope{"models.own": {}}
	if _, err := w.h.Load(ctx, host.Spec{Manifest: m, Wasm: hosttest.Guest(t, "hostile"), Grant: capability.Grant{}}); err == nil || !strings.Contains(err.Error(), "models.own is not granted") {
		t.Errorf("models without the grant: %v", err)
	}
	if _, err := w.h.Load(ctx, host.Spec{Manifest: m, Wasm: hosttest.Guest(t, "hostile"), Grant: capability.Grant{"models.own": {}}}); err != nil {
		t.Fatalf("models with the grant: %v", err)
	}
	if _, err := w.lib.Store.SQL().Exec(`INSERT INTO ext_dev_test_models__faces (box, score) VALUES ('1,2,3,4', 0.9)`); err != nil {
		t.Errorf("the model's table: %v", err)
	}

	// Host.Dispatch: the entry point a go-plugin host serves host calls through.
	req := []byte(`{"fn":"kv.set","args":{"key":"k","value":"AA=="}}`)
	if got := string(w.h.Dispatch(ctx, "dev.test.good", req)); got != `{"ok":null}` {
		t.Errorf("Dispatch for a loaded extension = %s", got)
	}
	if got := string(w.h.Dispatch(ctx, "dev.test.nobody", req)); !strings.Contains(got, abi.CodeUnavailable) {
		t.Errorf("Dispatch for an unknown extension = %s", got)
	}
}

// TestIndexerRunsWASMStage runs the kernel's indexer in deep mode over a real location with the
// WASM stage from the registry: the ledger records every content and the stage's output lands
// in user metadata.
func TestIndexerRunsWASMStage(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	root := filepath.Join(t.TempDir(), "fresh")
	os.MkdirAll(filepath.Join(root, "sub"), 0o755)
	os.WriteFile(filepath.Join(root, "one.txt"), []byte("a b c"), 0o644)
	os.WriteFile(filepath.Join(root, "sub", "two.txt"), []byte("d e"), 0o644)
	os.WriteFile(filepath.Join(root, "three.bin"), []byte("x"), 0o644)
	loc, err := w.lib.Store.AddLocation(ctx, w.lib.DeviceID, root, store.ModeDeep, store.LocationConfig{})
	if err != nil {
		t.Fatal(err)
	}
	// Grant the new location: reload the good extension's view with a wider grant.
	if err := w.h.Unload(ctx, "dev.test.good"); err != nil {
		t.Fatal(err)
	}
	good, err := w.h.Load(ctx, host.Spec{
		Manifest: manifestFor("dev.test.good", map[string]manifest.Scope{"content.read": {Globs: []string{"**/*.txt"}}},
			manifest.Stage{ID: "stage.wordcount", Export: "count_words", Version: 1}),
		Wasm:  hosttest.Guest(t, "wordcount"),
		Grant: capability.Grant{"content.read": {Locations: []string{loc.UUID}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	st, err := w.h.Registry().Stage("stage.wordcount")
	if err != nil {
		t.Fatal(err)
	}
	ix := &index.Indexer{Store: w.lib.Store, Jobs: jobs.NewManager(w.lib.Store.SQL())}
	job, _, err := ix.Job(ctx, loc)
	if err != nil {
		t.Fatal(err)
	}
	sum, err := ix.Run(ctx, loc, job, index.Options{Mode: store.ModeDeep, Stages: []pipeline.Stage{st}})
	if err != nil {
		t.Fatal(err)
	}
	if sum.Stages["stage.wordcount"] != 3 {
		t.Errorf("summary = %+v", sum)
	}
	rows, err := w.lib.Store.SQL().Query(`SELECT l.status, COALESCE(l.error, ''), COALESCE(m.value, '') FROM stage_ledger l
		LEFT JOIN user_metadata m ON m.content_id = l.content_id AND m.namespace = 'dev.test.good' AND m.key = 'stage:stage.wordcount'
		WHERE l.stage = 'stage.wordcount' ORDER BY m.value`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var got []string
	for rows.Next() {
		var status, errText, value string
		rows.Scan(&status, &errText, &value)
		got = append(got, status+" "+value+errText)
	}
	want := "failed no readable path|done {\"words\":2}|done {\"words\":3}"
	if strings.Join(got, "|") != want {
		t.Errorf("ledger = %q, want %q", strings.Join(got, "|"), want)
	}
	if s := good.Stats(); s.OK == 0 {
		t.Errorf("stats = %+v", s)
	}
}
