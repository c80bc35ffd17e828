package exttest

import (
	"context"
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cairnfs/cairn/sdk/cairn"
)

// StageBench compares one stage built as WASM (run through Extism, files in the read-only /data
// mount, host calls answered by the Fake) with the same code called natively (files on disk),
// over the same items: the two sub-benchmarks "wasm" and "native" report files/s.
type StageBench struct {
	// Dir is the extension's project folder (with cairn.toml); the module is built from it.
	Dir string
	// Stage is the stage id; its export and version come from the manifest.
	Stage string
	// Files is the corpus; every file is one item per batch.
	Files fs.FS
	// Config is the stage's config (default {}).
	Config json.RawMessage
	// Native handles a stage input natively (the handler's Handle method). It runs with the
	// Fake installed, so the SDK's host calls work natively too.
	Native func(input []byte) ([]byte, error)
}

// Run runs both sub-benchmarks.
func (sb StageBench) Run(b *testing.B) {
	ctx := context.Background()
	m, err := LoadManifest(filepath.Join(sb.Dir, "cairn.toml"))
	if err != nil {
		b.Fatal(err)
	}
	export, version := "", 0
	for _, s := range m.Contributes.Stages {
		if s.ID == sb.Stage {
			export, version = s.Export, s.Version
		}
	}
	if export == "" {
		b.Fatalf("%s contributes no stage %s", m.ID, sb.Stage)
	}
	cfg := sb.Config
	if len(cfg) == 0 {
		cfg = json.RawMessage("{}")
	}
	input := func(items []cairn.Item) []byte {
		in, _ := json.Marshal(map[string]any{"stage": sb.Stage, "version": version, "config": cfg, "items": items})
		return in
	}
	work := b.TempDir()
	mod := filepath.Join(work, "module.wasm")
	if err := Build(ctx, sb.Dir, ".", mod); err != nil {
		b.Fatal(err)
	}
	opts := Options{Files: sb.Files, Config: cfg}
	b.Run("wasm", func(b *testing.B) {
		s, done, err := Load(ctx, m, mod, b.TempDir(), opts)
		if err != nil {
			b.Fatal(err)
		}
		defer done()
		inst, err := s.Runtime.Instance(ctx)
		if err != nil {
			b.Fatal(err)
		}
		defer inst.Close(ctx)
		in := input(s.Items)
		if _, err := inst.Call(ctx, export, in); err != nil { // warm up
			b.Fatal(err)
		}
		b.ResetTimer()
		for range b.N {
			if _, err := inst.Call(ctx, export, in); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.N*len(s.Items))/b.Elapsed().Seconds(), "files/s")
	})
	b.Run("native", func(b *testing.B) {
		fake, err := NewFake(m, opts)
		if err != nil {
			b.Fatal(err)
		}
		fake.Install(b)
		dir := b.TempDir()
		items := fake.Items()
		for i := range items {
			rel := strings.TrimPrefix(items[i].Path, MountPoint+"/")
			data, err := fs.ReadFile(sb.Files, rel)
			if err != nil {
				b.Fatal(err)
			}
			p := filepath.Join(dir, filepath.FromSlash(rel))
			os.MkdirAll(filepath.Dir(p), 0o755)
			if err := os.WriteFile(p, data, 0o644); err != nil {
				b.Fatal(err)
			}
			items[i].Path = p
		}
		in := input(items)
		b.ResetTimer()
		for range b.N {
			if _, err := sb.Native(in); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.N*len(items))/b.Elapsed().Seconds(), "files/s")
	})
}
