//go:build !wasip1

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"image"
	"image/jpeg"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/cairnfs/cairn/sdk/cairn"
	"github.com/cairnfs/cairn/sdk/exttest"
)

// photo writes a 4000×3000 (12 MP) JPEG of gradients and noise into dir.
func photo(b *testing.B, dir string) cairn.Item {
	const w, h = 4000, 3000
	m := image.NewYCbCr(image.Rect(0, 0, w, h), image.YCbCrSubsampleRatio420)
	rng := rand.New(rand.NewPCG(1, 2))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			m.Y[y*m.YStride+x] = uint8((x*255/w+y*255/h)/2 + rng.IntN(24))
		}
	}
	for i := range m.Cb {
		m.Cb[i], m.Cr[i] = uint8(96+i%64), uint8(160-i%48)
	}
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, m, &jpeg.Options{Quality: 90}); err != nil {
		b.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "photo.jpg"), buf.Bytes(), 0o644); err != nil {
		b.Fatal(err)
	}
	return cairn.Item{ContentUUID: "00000000-0000-4000-8000-000000000001", Name: "photo.jpg", Kind: "image", Mime: "image/jpeg",
		Size: int64(buf.Len()), Path: filepath.Join(dir, "photo.jpg")}
}

// BenchmarkStage12MP is stage.thumbnail on one 12 MP JPEG (variants 256 and
// 1024, sidecars written to the fake host), as WASM in an Extism host with
// the 1 GiB memory cap the real host gives it, and as native Go. It reports
// ms/file.
func BenchmarkStage12MP(b *testing.B) {
	dir := b.TempDir()
	it := photo(b, dir)
	m, err := exttest.LoadManifest("cairn.toml")
	if err != nil {
		b.Fatal(err)
	}
	fake, err := exttest.NewFake(m, exttest.Options{Files: os.DirFS(dir)})
	if err != nil {
		b.Fatal(err)
	}
	input := func(path string) []byte {
		it := it
		it.Path = path
		in, _ := json.Marshal(map[string]any{"stage": "stage.thumbnail", "version": 1, "config": map[string]any{}, "items": []cairn.Item{it}})
		return in
	}
	check := func(out []byte) {
		var res struct{ Outcomes []exttest.Outcome }
		if err := json.Unmarshal(out, &res); err != nil || len(res.Outcomes) != 1 || res.Outcomes[0].Error != "" {
			b.Fatalf("output %s: %v", out, err)
		}
	}
	b.Run("wasm", func(b *testing.B) {
		ctx := context.Background()
		mod := filepath.Join(b.TempDir(), "thumbnail.wasm")
		if err := exttest.Build(ctx, ".", ".", mod); err != nil {
			b.Fatal(err)
		}
		wasm, err := os.ReadFile(mod)
		if err != nil {
			b.Fatal(err)
		}
		rt, err := exttest.NewExtismRuntime(ctx, wasm, exttest.ExtismOptions{Host: fake.Handle, DataDir: dir, MaxPages: 16384,
			Probe: []string{"stage_thumbnail"}})
		if err != nil {
			b.Fatal(err)
		}
		defer rt.Close(ctx)
		inst, err := rt.Instance(ctx)
		if err != nil {
			b.Fatal(err)
		}
		defer inst.Close(ctx)
		in := input(exttest.MountPoint + "/photo.jpg")
		b.ResetTimer()
		for n := 0; n < b.N; n++ {
			out, err := inst.Call(ctx, "stage_thumbnail", in)
			if err != nil {
				b.Fatal(err)
			}
			check(out)
		}
		b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N), "ms/file")
	})
	b.Run("native", func(b *testing.B) {
		fake.Install(b)
		in := input(it.Path)
		for n := 0; n < b.N; n++ {
			out, err := thumbnail.Handle(in)
			if err != nil {
				b.Fatal(err)
			}
			check(out)
		}
		b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N), "ms/file")
	})
}
