package process

import (
	"context"
	"encoding/json"
	"fmt"
	"path"
	"strings"
	"testing"
)

// BenchmarkCall is the overhead of one call of a trivial export ("echo", 2-byte input) through
// Extension.Call: ext's limits, gRPC over a unix socket with mTLS, and back.
func BenchmarkCall(b *testing.B) {
	x := start(b, Config{})
	ctx := context.Background()
	in := []byte(`{}`)
	for b.Loop() {
		if _, err := x.Call(ctx, "echo", in); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCallParallel is BenchmarkCall from GOMAXPROCS goroutines.
func BenchmarkCallParallel(b *testing.B) {
	x := start(b, Config{})
	ctx := context.Background()
	in := []byte(`{}`)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := x.Call(ctx, "echo", in); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// BenchmarkHostCall is a call whose export makes one host call (kv.get) back to the host.
func BenchmarkHostCall(b *testing.B) {
	x := start(b, Config{})
	ctx := context.Background()
	for b.Loop() {
		if _, err := x.Call(ctx, "hostcall", nil); err != nil {
			b.Fatal(err)
		}
	}
}

// batchInput is a stage input of n items as v1.md defines them.
func batchInput(n int) []byte {
	var sb strings.Builder
	sb.WriteString(`{"stage":"stage.words","version":1,"config":{},"items":[`)
	for i := range n {
		if i > 0 {
			sb.WriteByte(',')
		}
		fmt.Fprintf(&sb, `{"content_uuid":"5b1a6c6e-0e0d-5f3a-9a59-%012x","cas_id":"af1349b9f5f9a1a6","size":%d,"path":"/data/a/dir/file name %d.txt","name":"file name %d.txt","mime":"text/plain","kind":"text"}`, i, 1000+i, i, i)
	}
	sb.WriteString(`]}`)
	return []byte(sb.String())
}

// BenchmarkBatch500 is one stage call over 500 items (about 120 KiB of JSON in, 40 KiB out):
// "process" through the extension process, "inprocess" the same decoding and work as built-in
// Go, for comparison.
func BenchmarkBatch500(b *testing.B) {
	in := batchInput(500)
	b.Run("process", func(b *testing.B) {
		x := start(b, Config{})
		ctx := context.Background()
		b.SetBytes(int64(len(in)))
		for b.Loop() {
			if _, err := x.Call(ctx, "stage", in); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.N*500)/b.Elapsed().Seconds(), "items/s")
	})
	b.Run("inprocess", func(b *testing.B) {
		b.SetBytes(int64(len(in)))
		for b.Loop() {
			if _, err := stageInProcess(in); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.N*500)/b.Elapsed().Seconds(), "items/s")
	})
}

// stageInProcess is testdata/plugin's stage export, built in.
func stageInProcess(in []byte) ([]byte, error) {
	var si struct {
		Stage   string          `json:"stage"`
		Version int             `json:"version"`
		Config  json.RawMessage `json:"config"`
		Items   []struct {
			ContentUUID string `json:"content_uuid"`
			CasID       string `json:"cas_id"`
			Size        int64  `json:"size"`
			Path        string `json:"path"`
			Name        string `json:"name"`
			Mime        string `json:"mime,omitempty"`
			Kind        string `json:"kind,omitempty"`
		} `json:"items"`
	}
	if err := json.Unmarshal(in, &si); err != nil {
		return nil, err
	}
	type outcome struct {
		ContentUUID string         `json:"content_uuid"`
		Data        map[string]int `json:"data,omitempty"`
	}
	out := struct {
		Outcomes []outcome `json:"outcomes"`
	}{Outcomes: make([]outcome, 0, len(si.Items))}
	for _, it := range si.Items {
		base := strings.TrimSuffix(it.Name, path.Ext(it.Name))
		out.Outcomes = append(out.Outcomes, outcome{ContentUUID: it.ContentUUID, Data: map[string]int{"words": len(strings.Fields(base))}})
	}
	return json.Marshal(out)
}

// BenchmarkStart is the cost of starting an extension process (exec, checksum, handshake,
// AutoMTLS, first call) and closing it, without and with the sandbox (the trampoline: this test
// binary, hashed once, then checked by go-plugin at each start; Landlock where available).
func BenchmarkStart(b *testing.B) {
	b.Run("plain", func(b *testing.B) { benchStart(b, nil) })
	b.Run("sandboxed", func(b *testing.B) { benchStart(b, &Sandbox{Trampoline: trampoline(b)}) })
}

func benchStart(b *testing.B, sb *Sandbox) {
	ctx := context.Background()
	for b.Loop() {
		x, err := Start(ctx, Config{ID: "dev.test.start", Path: bin.plugin, Sandbox: sb})
		if err != nil {
			b.Fatal(err)
		}
		if _, err := x.Call(ctx, "echo", nil); err != nil {
			b.Fatal(err)
		}
		if err := x.Close(); err != nil {
			b.Fatal(err)
		}
	}
}
