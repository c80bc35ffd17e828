package host_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path"
	"strings"
	"testing"
	"time"

	"github.com/cairnfs/cairn/core/pipeline"
	"github.com/cairnfs/cairn/host"
	"github.com/cairnfs/cairn/host/backend"
	"github.com/cairnfs/cairn/host/capability"
	"github.com/cairnfs/cairn/host/internal/hosttest"
	"github.com/cairnfs/cairn/host/wasm"
	"github.com/cairnfs/cairn/schemas/manifest"
)

// BenchmarkLoad compares loading the 3.6 MB wordcount guest with an empty compilation cache
// (cold: compile) and with the cache a previous process left on disk (warm: a new Runtime, as
// after a restart, on the same cache directory). Run with -benchtime=3x: each cold load compiles.
func BenchmarkLoad(b *testing.B) {
	code := hosttest.Guest(b, "wordcount")
	load := func(b *testing.B, dir string) {
		rt, err := wasm.NewRuntime(wasm.Config{CacheDir: dir})
		if err != nil {
			b.Fatal(err)
		}
		m, err := rt.Load(context.Background(), wasm.ModuleSpec{Name: "dev.bench.load", Wasm: code})
		if err != nil {
			b.Fatal(err)
		}
		m.Close(context.Background())
		rt.Close(context.Background())
	}
	b.Run("cold", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			load(b, b.TempDir())
		}
	})
	b.Run("warm", func(b *testing.B) {
		dir := b.TempDir()
		load(b, dir) // fill the cache
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			load(b, dir)
		}
	})
}

// benchWorld is a library with one location of 1,000 small text files and the wordcount guest
// loaded with content.read on it.
type benchWorld struct {
	lib   *hosttest.Library
	h     *host.Host
	x     *host.Extension
	files []hosttest.File
}

func newBenchWorld(b *testing.B) *benchWorld {
	b.Helper()
	tree := map[string]string{}
	for i := 0; i < 1000; i++ {
		tree[fmt.Sprintf("d%02d/f%04d.txt", i%50, i)] = strings.Repeat(fmt.Sprintf("word%d ", i), 1+i%20)
	}
	lib := hosttest.NewLibrary(b, map[string]map[string]string{"docs": tree})
	h, err := host.New(host.Config{Store: lib.Store, LibraryDir: lib.Dir, DeviceID: lib.DeviceID, CacheDir: hosttest.CacheDir(b)})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { h.Close(context.Background()) })
	x, err := h.Load(context.Background(), host.Spec{
		Manifest: manifestFor("dev.bench.wordcount",
			map[string]manifest.Scope{"content.read": {Globs: []string{"**/*.txt"}}, "kv": {}},
			manifest.Stage{ID: "stage.wordcount", Export: "count_words", Version: 1},
			manifest.Stage{ID: "stage.guesstype", Export: "guess_type", Version: 1},
			manifest.Stage{ID: "stage.wordcount-fast", Export: "count_words_fast", Version: 1},
			manifest.Stage{ID: "stage.guesstype-fast", Export: "guess_type_fast", Version: 1}),
		Wasm:   hosttest.Guest(b, "wordcount"),
		Grant:  capability.Grant{"content.read": {Locations: []string{lib.Locations["docs"].UUID}}, "kv": {}},
		Limits: host.Limits{HostCallRate: -1},
	})
	if err != nil {
		b.Fatal(err)
	}
	w := &benchWorld{lib: lib, h: h, x: x}
	for _, f := range lib.Files {
		w.files = append(w.files, f)
	}
	return w
}

// BenchmarkCall is the per-call overhead of a trivial export through Extension.Call (pool,
// deadline, go-sdk, pdk.Export).
func BenchmarkCall(b *testing.B) {
	w := newBenchWorld(b)
	ctx := context.Background()
	if _, err := w.x.Call(ctx, "noop", nil); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := w.x.Call(ctx, "noop", nil); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkHostCall is one guest → host → guest round trip (config.get) inside an export call.
func BenchmarkHostCall(b *testing.B) {
	w := newBenchWorld(b)
	ctx := context.Background()
	req := []byte(`{"fn":"config.get","args":{}}`)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := w.x.Call(ctx, "hostcall", req); err != nil {
			b.Fatal(err)
		}
	}
}

// nativeStage is the built-in Go twin of a wordcount guest stage: the same per-item work, the
// same kind of outcome (data applied in the ledger transaction).
type nativeStage struct {
	id  string
	per func(it pipeline.Item) (any, error)
}

func (s nativeStage) ID() string   { return s.id }
func (s nativeStage) Version() int { return 1 }
func (s nativeStage) Process(ctx context.Context, items []pipeline.Item) ([]pipeline.Outcome, error) {
	out := make([]pipeline.Outcome, len(items))
	for i, it := range items {
		v, err := s.per(it)
		if err != nil {
			out[i].Err = err
			continue
		}
		data, _ := json.Marshal(v)
		out[i].Apply = backend.StageData("native", s.id, it.ContentID, data)
	}
	return out, nil
}

var nativeStages = map[string]nativeStage{
	"stage.guesstype": {"stage.guesstype", func(it pipeline.Item) (any, error) {
		ext := strings.ToLower(strings.TrimPrefix(path.Ext(it.Path), "."))
		kind := map[string]string{"jpg": "image", "png": "image", "txt": "text", "md": "text", "pdf": "document"}[ext]
		if kind == "" {
			kind = "unknown"
		}
		return map[string]any{"ext": ext, "kind": kind}, nil
	}},
	"stage.wordcount": {"stage.wordcount", func(it pipeline.Item) (any, error) {
		data, err := os.ReadFile(it.Path)
		if err != nil {
			return nil, err
		}
		return map[string]any{"words": len(bytes.Fields(data))}, nil
	}},
}

// BenchmarkStage runs a stage over 100,000 items in batches of 500, through the registry's
// adapter of the WASM extension (JSON both ways, one export call per batch, files read through
// the /data mount) and as built-in Go, and reports µs per file. guesstype does almost nothing per
// item, so it measures the pure per-item overhead of going through WASM; wordcount also reads
// each file (1,000 distinct files, cycled). Each WASM stage comes in two builds of the guest's
// message codec: encoding/json (reflection; slow in a Go guest) and the reflection-free codec
// of testdata/guests/wordcount/fastjson.go. cpu-µs/file is the process's CPU time per file: on a
// shared machine, wall time also counts waiting for a core. Run with -benchtime=1x.
func BenchmarkStage(b *testing.B) {
	const items, batch = 100_000, 500
	w := newBenchWorld(b)
	all := make([]pipeline.Item, items)
	for i := range all {
		f := w.files[i%len(w.files)]
		all[i] = pipeline.Item{ContentID: f.ContentID, ContentUUID: f.ContentUUID, CasID: f.CasID, Size: f.Size, Path: f.Abs}
	}
	stage := func(id string) pipeline.Stage {
		st, err := w.h.Registry().Stage(id)
		if err != nil {
			b.Fatal(err)
		}
		return st
	}
	type impl struct {
		name  string
		stage pipeline.Stage
	}
	for _, id := range []string{"stage.guesstype", "stage.wordcount"} {
		for _, im := range []impl{{"wasm-encodingjson", stage(id)}, {"wasm-fastjson", stage(id + "-fast")}, {"native", nativeStages[id]}} {
			b.Run(strings.TrimPrefix(id, "stage.")+"/"+im.name, func(b *testing.B) {
				ctx := context.Background()
				start, cpu := time.Now(), cpuTime()
				for n := 0; n < b.N; n++ {
					for i := 0; i < items; i += batch {
						out, err := im.stage.Process(ctx, all[i:i+batch])
						if err != nil {
							b.Fatal(err)
						}
						for _, o := range out {
							if o.Err != nil {
								b.Fatal(o.Err)
							}
						}
					}
				}
				b.ReportMetric(float64(time.Since(start).Microseconds())/float64(b.N*items), "µs/file")
				b.ReportMetric(float64((cpuTime()-cpu).Microseconds())/float64(b.N*items), "cpu-µs/file")
			})
		}
	}
}

// Interface guard for the native twin.
var _ pipeline.Stage = nativeStage{}
