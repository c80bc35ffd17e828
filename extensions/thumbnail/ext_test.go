//go:build !wasip1

package main

import (
	"io/fs"
	"path"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/cairnfs/cairn/sdk/exttest"
)

// fixture is exttest's default tree (text files, a 1×1 PNG, random bytes)
// plus the test images.
func fixture(t *testing.T) fs.FS {
	files := fstest.MapFS{}
	err := fs.WalkDir(exttest.DefaultFiles(), ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(exttest.DefaultFiles(), p)
		files[p] = &fstest.MapFile{Data: b, Mode: 0o644}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	for name, data := range fixtureImages(t) {
		files[name] = &fstest.MapFile{Data: data, Mode: 0o644}
	}
	return files
}

// TestConformance builds the module and runs the exttest suite on it, with
// the images as the golden batch (the manifest's filter selects them).
func TestConformance(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the WASM module")
	}
	exttest.Run(t, ".", exttest.Options{
		Files: fixture(t),
		// Each golden batch decodes and resizes two images (~0.3 s under
		// wazero): 60 calls show a leak as well as the default 200, in a
		// third of the time.
		MemoryCalls: 60,
		Verify: func(r exttest.Reporter, g exttest.Golden) {
			sidecars := g.Fake.State().Sidecars
			seen := 0
			for i, it := range g.Items {
				o := g.Outcomes[i]
				want, ok := wantOutcome[it.Name]
				if !ok { // the default fixture's 1×1 PNG
					if o.Error != "" || !strings.Contains(string(o.Data), `"width":1,"height":1`) {
						r.Errorf("%s: outcome %s %s", it.Name, o.Data, o.Error)
					}
					continue
				}
				seen++
				if e, isErr := strings.CutPrefix(want, "error: "); isErr {
					if !strings.HasPrefix(o.Error, e) {
						r.Errorf("%s: outcome %s error %q, want an error starting %q", it.Name, o.Data, o.Error, e)
					}
					continue
				}
				if o.Error != "" || string(o.Data) != want {
					r.Errorf("%s: outcome %s error %q, want %s", it.Name, o.Data, o.Error, want)
				}
			}
			if seen != len(wantOutcome) {
				r.Errorf("golden batch had %d of the %d test images", seen, len(wantOutcome))
			}
			for _, it := range g.Items {
				if it.Name != "rotated.jpg" {
					continue
				}
				for _, v := range []string{"256", "1024"} {
					p := path.Join("sidecars", it.ContentUUID, "thumb", v+".jpg")
					if !redTopLeft(sidecars[p]) {
						r.Errorf("%s: sidecar %s missing or not upright (%d bytes)", it.Name, p, len(sidecars[p]))
					}
				}
			}
			for _, c := range g.Calls {
				if c.Fn != "sidecar.write" {
					r.Errorf("unexpected host call %s", c.Fn)
				}
			}
		},
	})
}
