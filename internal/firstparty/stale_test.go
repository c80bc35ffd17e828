package firstparty

import (
	"bytes"
	"context"
	"os"
	"path"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/cairnfs/cairn/schemas/manifest"
)

const regenerate = "run `go generate ./internal/firstparty` and commit internal/firstparty/modules"

func repoRoot(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	return root
}

// TestEmbeddedLoads: every pinned extension is embedded, its manifest parses and its module
// has the pinned BLAKE3, in the order of Dirs.
func TestEmbeddedLoads(t *testing.T) {
	mods, err := Embedded()
	if err != nil {
		t.Fatal(err)
	}
	if len(mods) != len(Dirs) {
		t.Fatalf("%d embedded extensions, %d first-party folders: %s", len(mods), len(Dirs), regenerate)
	}
	for i, m := range mods {
		if m.Dir != Dirs[i] {
			t.Errorf("embedded #%d is %s, want %s: %s", i, m.Dir, Dirs[i], regenerate)
		}
		if err := m.Manifest.Validate(); err != nil {
			t.Errorf("%s: %v", m.ID, err)
		}
		if m.Manifest.Kind == manifest.KindWASM && (len(m.Wasm) == 0 || m.Manifest.Entry.BLAKE3 != m.BLAKE3) {
			t.Errorf("%s: module not embedded or not pinned", m.ID)
		}
		if m.Manifest.Kind == manifest.KindProcess {
			if _, _, err := NativeExec(m.ID); err != nil {
				t.Errorf("%s is native but not compiled into the binary: %v", m.ID, err)
			}
		}
	}
}

// TestEmbeddedNotStale: the sources each module was built from are the sources in the tree,
// and each embedded manifest is the source's cairn.toml, byte for byte. This is the fast check
// that catches an edit without `go generate`.
func TestEmbeddedNotStale(t *testing.T) {
	root := repoRoot(t)
	mods, err := Embedded()
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range mods {
		want, err := SourceHash(context.Background(), root, m.Dir, m.Manifest.Kind == manifest.KindWASM)
		if err != nil {
			t.Fatal(err)
		}
		if want != m.Sources {
			t.Errorf("%s is stale: its sources changed since it was built (%s…, now %s…): %s", m.ID, m.Sources[:12], want[:12], regenerate)
		}
		src, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(m.Dir), manifest.FileName))
		if err != nil {
			t.Fatal(err)
		}
		emb, err := embedded.ReadFile(path.Join("modules", path.Base(m.Dir), manifest.FileName))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(src, emb) {
			t.Errorf("%s: the embedded manifest differs from %s/cairn.toml: %s", m.ID, m.Dir, regenerate)
		}
	}
}

// TestEmbeddedRebuild rebuilds every WASM module with the pinned flags and compares the bytes:
// the build is reproducible and what ships is what the sources make.
func TestEmbeddedRebuild(t *testing.T) {
	if testing.Short() {
		t.Skip("rebuilds the first-party WASM modules")
	}
	pins, err := ReadPins()
	if err != nil {
		t.Fatal(err)
	}
	if pins.Go != runtime.Version() {
		msg := "the embedded modules were built with " + pins.Go + ", this is " + runtime.Version() + ": the bytes cannot be compared (" + regenerate + " with this Go to compare)"
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	root := repoRoot(t)
	mods, err := Embedded()
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range mods {
		if m.Wasm == nil {
			continue
		}
		t.Run(m.ID, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), m.Entry)
			if err := BuildWASM(context.Background(), root, m.Dir, out); err != nil {
				t.Fatal(err)
			}
			got, err := os.ReadFile(out)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, m.Wasm) {
				t.Errorf("rebuilding %s gives %d bytes that differ from the embedded %d: %s", m.Dir, len(got), len(m.Wasm), regenerate)
			}
		})
	}
}
