//go:build linux

package host_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cairnfs/cairn/host"
	"github.com/cairnfs/cairn/host/capability"
	"github.com/cairnfs/cairn/host/process"
	"github.com/cairnfs/cairn/host/process/sandbox"
	"github.com/cairnfs/cairn/schemas/manifest"
)

// TestHostileNativeLocations loads host/process's test extension as an installed native
// extension granted content.read in the public location only: through Host.Load its sandbox
// lets it read that location and nothing of the private one or of the library itself.
func TestHostileNativeLocations(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a native extension")
	}
	w := newWorld(t)
	dir := t.TempDir()
	build := exec.Command("go", "build", "-o", filepath.Join(dir, "plugin"), "./process/testdata/plugin")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("building the test extension: %v\n%s", err, out)
	}
	m := &manifest.Manifest{ID: "dev.test.nativereader", Name: "reader", Version: "1.0.0", ABI: ">=1.0, <2.0",
		Kind: manifest.KindProcess, Entry: manifest.Entry{File: "plugin"},
		Capabilities: map[string]manifest.Scope{"content.read": {}},
		Contributes: manifest.Contributions{Queries: []manifest.Query{
			{Name: "read", Export: "read", Description: "reads the file its input names"}}}}
	x, err := w.h.Load(context.Background(), host.Spec{Manifest: m, Dir: dir,
		Grant: capability.Grant{"content.read": {Locations: []string{w.public}}}})
	if err != nil {
		t.Fatal(err)
	}
	st := sandbox.Probe()
	if got, want := x.Extension.Runner().(*process.Process).Confinement(), st.Report(m.ID); got != want {
		t.Errorf("confinement %q, want %q", got, want)
	}
	read := func(path string) (string, error) {
		out, err := call(x, "read", path)
		return string(out), err
	}
	pub := w.lib.Files["public/a.txt"].Abs
	if out, err := read(pub); err != nil || out != "alpha beta gamma" {
		t.Fatalf("reading %s in its granted location: %q, %v", pub, out, err)
	}
	for name, path := range map[string]string{
		"private-location": w.lib.Files["private/diary.txt"].Abs,
		"library-database": filepath.Join(w.lib.Dir, "library.db"),
	} {
		t.Run(name, func(t *testing.T) {
			if !st.Available {
				t.Skipf("no Landlock on this kernel (%s): the host reported %q", st.Reason, st.Report(m.ID))
			}
			if _, err := os.Stat(path); err != nil {
				t.Fatal(err)
			}
			if out, err := read(path); err == nil || !strings.Contains(err.Error(), "permission denied") {
				t.Fatalf("the extension read %s: %.40q, %v", path, out, err)
			}
		})
	}
}
