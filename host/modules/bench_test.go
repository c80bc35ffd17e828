package modules

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"testing"

	"github.com/cairnfs/cairn/core/pipeline"
	"github.com/cairnfs/cairn/schemas/manifest"
)

// BenchmarkExtStageHostSide is the host's own share of a WASM stage's per-file cost: mapping
// paths, encoding the batch, decoding the outcomes and building the Apply functions, with a
// caller that answers instantly (batches of 500).
func BenchmarkExtStageHostSide(b *testing.B) {
	const n = 500
	items := make([]pipeline.Item, n)
	paths := mapper{}
	outs := make([]map[string]any, n)
	for i := range items {
		abs := fmt.Sprintf("/home/ann/docs/d%02d/f%04d.txt", i%50, i)
		items[i] = pipeline.Item{ContentID: int64(i), ContentUUID: fmt.Sprintf("5b1a6c6e-0e0d-5f3a-9a59-%012d", i), CasID: "af1349b9f5f9a1a6", Size: 100, Path: abs}
		paths[abs] = "/data/5b1a6c6e-0e0d-5f3a-9a59-0d2a4ad3c0e1" + abs[14:]
		outs[i] = map[string]any{"content_uuid": items[i].ContentUUID, "data": map[string]any{"ext": "txt", "kind": "text"}}
	}
	answer, _ := json.Marshal(map[string]any{"outcomes": outs})
	f := &fakeExt{id: "dev.bench.x", exports: map[string]string{"hello": string(answer), "thumb": "{}"}}
	r := New()
	if _, err := r.AddExtension(Extension{Caller: f, Manifest: &manifest.Manifest{ID: f.id, Contributes: manifest.Contributions{
		Stages: []manifest.Stage{{ID: "stage.hello", Export: "hello", Version: 1}}}}, Kind: WASM, Paths: paths,
		ApplyData: func(string, string, int64, json.RawMessage) func(context.Context, *sql.Tx) error { return nil }}); err != nil {
		b.Fatal(err)
	}
	st, _ := r.Stage("stage.hello")
	ctx := context.Background()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := st.Process(ctx, items); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n)/1000, "µs/file")
}
