//go:build !wasip1

package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/cairnfs/cairn/host/process"
	"github.com/cairnfs/cairn/schemas/manifest"
	"github.com/cairnfs/cairn/sdk/exttest"
)

// nativeRuntime runs the extension's binary as a go-plugin child for the conformance suite,
// with sdk/exttest's fake host answering its host calls: the same checks a WASM extension
// passes (except the memory check, which measures WASM linear memory).
type nativeRuntime struct {
	bin  string
	m    *manifest.Manifest
	fake *exttest.Fake
}

func (r *nativeRuntime) HasExport(name string) bool {
	for _, s := range r.m.Contributes.Stages {
		if s.Export == name {
			return true
		}
	}
	for _, q := range r.m.Contributes.Queries {
		if q.Export == name {
			return true
		}
	}
	return false
}

func (r *nativeRuntime) Instance(ctx context.Context) (exttest.Instance, error) {
	p, err := process.Launch(ctx, process.Config{ID: r.m.ID, Path: r.bin, Dispatcher: process.DispatcherFunc(
		func(_ context.Context, _ string, req []byte) []byte { return r.fake.Handle(req) })})
	if err != nil {
		return nil, err
	}
	return nativeInstance{p}, nil
}

func (r *nativeRuntime) Close(context.Context) error { return nil }

type nativeInstance struct{ p *process.Process }

func (i nativeInstance) Call(ctx context.Context, export string, input []byte) ([]byte, error) {
	return i.p.Run(ctx, export, input)
}
func (i nativeInstance) MemoryBytes() uint64             { return 0 }
func (i nativeInstance) Close(ctx context.Context) error { return i.p.Close(ctx) }

func TestConformance(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and starts the extension")
	}
	bin := filepath.Join(t.TempDir(), "hellonative")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("building: %v\n%s", err, out)
	}
	b, err := os.ReadFile(manifest.FileName)
	if err != nil {
		t.Fatal(err)
	}
	m, err := manifest.Parse(b)
	if err != nil {
		t.Fatal(err)
	}
	fake, err := exttest.NewFake(m, exttest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	// The memory check measures a WASM instance's linear memory; a process has none to report
	// (its memory is the OS's to bound), so it is skipped rather than run to a "not checked".
	exttest.RunSubject(t, exttest.Subject{Manifest: m, Runtime: &nativeRuntime{bin: bin, m: m, fake: fake}, Host: fake, Items: fake.Items()},
		exttest.Options{Skip: []string{"memory"}})
}
