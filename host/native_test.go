package host_test

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/zeebo/blake3"

	"github.com/cairnfs/cairn/core/pipeline"
	"github.com/cairnfs/cairn/host"
	"github.com/cairnfs/cairn/host/capability"
	"github.com/cairnfs/cairn/host/process"
	"github.com/cairnfs/cairn/schemas/manifest"
)

// TestNativeExtension loads extensions/hellonative (a go-plugin process) through Host.Load: its
// stage runs from the module registry, its host calls pass the same capability checks (a call
// outside them is denied and audited), and Unload leaves no process behind.
func TestNativeExtension(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a native extension")
	}
	w := newWorld(t)
	ctx := context.Background()
	x := loadHelloNative(t, w)
	m := x.Manifest
	pid := x.Extension.Runner().(*process.Process).PID()
	if pid <= 0 || syscall.Kill(pid, 0) != nil {
		t.Fatalf("no live extension process (pid %d)", pid)
	}
	st, err := w.h.Registry().Stage("stage.hellonative")
	if err != nil {
		t.Fatal(err)
	}
	var items []pipeline.Item
	for _, k := range []string{"public/a.txt", "public/notes/b.txt"} {
		f := w.lib.Files[k]
		items = append(items, pipeline.Item{ContentID: f.ContentID, ContentUUID: f.ContentUUID, CasID: f.CasID, Size: f.Size, Path: f.Abs})
	}
	cctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	out, err := st.Process(cctx, items)
	if err != nil || len(out) != 2 || out[0].Err != nil || out[1].Err != nil || out[0].Apply == nil {
		t.Fatalf("stage outcomes %+v, %v", out, err)
	}
	// Each outcome's data is the item's name length, stored as the stage's metadata.
	tx, err := w.lib.Store.SQL().BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range out {
		if err := o.Apply(ctx, tx); err != nil {
			tx.Rollback()
			t.Fatal(err)
		}
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	for i, it := range items {
		var data string
		err := w.lib.Store.SQL().QueryRow(`SELECT value FROM user_metadata WHERE content_id = ? AND namespace = ? AND key = ?`,
			it.ContentID, m.ID, "stage:stage.hellonative").Scan(&data)
		if want := `{"name_length":` + strconv.Itoa(len(filepath.Base(it.Path))) + `}`; err != nil || data != want {
			t.Errorf("item %d (%s): stage data %q, %v; want %s", i, it.Path, data, err, want)
		}
	}
	// The stage counted its items in its kv store, through the host.
	if got := string(w.h.Dispatch(ctx, m.ID, []byte(`{"fn":"kv.get","args":{"key":"items"}}`))); got != `{"ok":{"value":"Mg=="}}` {
		t.Errorf("kv after the stage: %s", got)
	}
	// A host call outside its capabilities: capability_denied, audited.
	res, err := x.Call(cctx, "probe", []byte("metadata.set"))
	if err != nil || !strings.Contains(string(res), "capability_denied") {
		t.Fatalf("probe metadata.set: %q, %v", res, err)
	}
	var n int
	w.lib.Store.SQL().QueryRow(`SELECT count(*) FROM audit_log WHERE actor = ? AND outcome = 'denied'`, m.ID).Scan(&n)
	if n == 0 {
		t.Error("the denial left no audit row")
	}
	var stats json.RawMessage
	stats, _ = json.Marshal(x.Stats())
	t.Logf("native extension pid %d, stats %s", pid, stats)
	if err := w.h.Unload(ctx, m.ID); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 100; i++ {
		if syscall.Kill(pid, 0) != nil {
			return
		}
		if b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat"); err == nil && strings.Contains(string(b), ") Z ") {
			return // a zombie: dead, waiting to be reaped
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("extension process %d survived Unload", pid)
}

// loadHelloNative builds extensions/hellonative, pins it in its manifest and loads it into w's
// host with kv granted.
func loadHelloNative(tb testing.TB, w *world) *host.Extension {
	tb.Helper()
	dir := tb.TempDir()
	src := filepath.Join("..", "extensions", "hellonative")
	build := exec.Command("go", "build", "-o", filepath.Join(dir, "hellonative"), ".")
	build.Dir = src
	if out, err := build.CombinedOutput(); err != nil {
		tb.Fatalf("building hellonative: %v\n%s", err, out)
	}
	b, err := os.ReadFile(filepath.Join(src, manifest.FileName))
	if err != nil {
		tb.Fatal(err)
	}
	m, err := manifest.Parse(b)
	if err != nil {
		tb.Fatal(err)
	}
	bin, err := os.ReadFile(filepath.Join(dir, "hellonative"))
	if err != nil {
		tb.Fatal(err)
	}
	sum := blake3.Sum256(bin)
	m.Entry.BLAKE3 = hex.EncodeToString(sum[:])
	x, err := w.h.Load(context.Background(), host.Spec{Manifest: m, Dir: dir, Grant: capability.Grant{"kv": {}}})
	if err != nil {
		tb.Fatal(err)
	}
	return x
}

// nameLength is hellonative's stage as built-in Go, for the side-by-side benchmark.
type nameLength struct{}

func (nameLength) ID() string   { return "stage.namelength" }
func (nameLength) Version() int { return 1 }
func (nameLength) Process(_ context.Context, items []pipeline.Item) ([]pipeline.Outcome, error) {
	out := make([]pipeline.Outcome, len(items))
	for i, it := range items {
		_ = len(filepath.Base(it.Path))
		out[i] = pipeline.Outcome{}
	}
	return out, nil
}

// BenchmarkNativeStage runs hellonative's trivial stage (name length per item, one kv round
// trip per batch) over 100k items in batches of 500 as a go-plugin process, next to the same
// work as built-in Go; BenchmarkStage has the WASM figures (run both in one invocation:
// go test -run x -bench 'Stage' -benchtime 1x ./host).
func BenchmarkNativeStage(b *testing.B) {
	const items, batch = 100_000, 500
	w := newBenchWorld(b)
	loadHelloNative(b, &world{lib: w.lib, h: w.h})
	all := make([]pipeline.Item, items)
	for i := range all {
		f := w.files[i%len(w.files)]
		all[i] = pipeline.Item{ContentID: f.ContentID, ContentUUID: f.ContentUUID, CasID: f.CasID, Size: f.Size, Path: f.Abs}
	}
	st, err := w.h.Registry().Stage("stage.hellonative")
	if err != nil {
		b.Fatal(err)
	}
	for _, im := range []struct {
		name  string
		stage pipeline.Stage
	}{{"go-plugin", st}, {"builtin", nameLength{}}} {
		b.Run("namelength/"+im.name, func(b *testing.B) {
			ctx := context.Background()
			start, cpu := time.Now(), cpuTime()
			for n := 0; n < b.N; n++ {
				for i := 0; i < items; i += batch {
					if _, err := im.stage.Process(ctx, all[i:i+batch]); err != nil {
						b.Fatal(err)
					}
				}
			}
			b.ReportMetric(float64(time.Since(start).Microseconds())/float64(b.N*items), "µs/file")
			b.ReportMetric(float64((cpuTime()-cpu).Microseconds())/float64(b.N*items), "cpu-µs/file")
		})
	}
}
