//go:build !wasip1

package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cairnfs/cairn/sdk/cairn"
	"github.com/cairnfs/cairn/sdk/exttest"
)

// TestStageNative runs the stage as plain Go against exttest's fake host,
// with items whose paths are native files: each test image's outcome, the
// sidecars, a config with other variants, and a bad config.
func TestStageNative(t *testing.T) {
	fake := exttest.InstallFake(t, "cairn.toml", exttest.Options{})
	dir := t.TempDir()
	var items []cairn.Item
	for name, data := range fixtureImages(t) {
		p := filepath.Join(dir, filepath.Base(name))
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		items = append(items, cairn.Item{ContentUUID: "u-" + filepath.Base(name), Name: filepath.Base(name), Path: p, Kind: "image", Size: int64(len(data))})
	}
	items = append(items, cairn.Item{ContentUUID: "u-gone", Name: "gone.jpg", Path: filepath.Join(dir, "gone.jpg"), Kind: "image"})

	run := func(config string) []exttest.Outcome {
		t.Helper()
		in, _ := json.Marshal(map[string]any{"stage": "stage.thumbnail", "version": 1, "config": json.RawMessage(config), "items": items})
		out, err := thumbnail.Handle(in)
		if err != nil {
			t.Fatal(err)
		}
		var res struct{ Outcomes []exttest.Outcome }
		if err := json.Unmarshal(out, &res); err != nil || len(res.Outcomes) != len(items) {
			t.Fatalf("output %s: %v", out, err)
		}
		return res.Outcomes
	}

	for i, o := range run(`{}`) {
		name := items[i].Name
		want, ok := wantOutcome[name]
		if !ok {
			if !strings.HasPrefix(o.Error, "opening gone.jpg: ") {
				t.Errorf("%s: %+v, want an opening error", name, o)
			}
			continue
		}
		if e, isErr := strings.CutPrefix(want, "error: "); isErr {
			if !strings.HasPrefix(o.Error, e) {
				t.Errorf("%s: %s %q, want an error starting %q", name, o.Data, o.Error, e)
			}
		} else if o.Error != "" || string(o.Data) != want {
			t.Errorf("%s: %s %q, want %s", name, o.Data, o.Error, want)
		}
	}
	sc, self := fake.State().Sidecars, fake.State().ContentSidecars
	if len(sc) != 3 || len(self) != 3 {
		t.Errorf("%d sidecars, want rotated.jpg's 2 and alpha.png's 256: %v; %d stored as content, want alpha.png's 1024 and icon.svg's 2: %v",
			len(sc), keys(sc), len(self), self)
	}
	for _, v := range []string{"256", "1024"} {
		if p := "sidecars/u-rotated.jpg/thumb/" + v + ".jpg"; !redTopLeft(sc[p]) {
			t.Errorf("%s missing or not upright", p)
		}
		if p := "sidecars/u-icon.svg/thumb/" + v + ".svg"; self[p] != "svg" {
			t.Errorf("%s is not the SVG itself: %v", p, self)
		}
	}
	if p := "sidecars/u-alpha.png/thumb/256.png"; len(sc[p]) == 0 {
		t.Errorf("%s missing", p)
	}
	if p := "sidecars/u-alpha.png/thumb/1024.png"; self[p] != "png" || sc[p] != nil {
		t.Errorf("%s: a 300×200 image is its own 1024 px thumbnail, want no copy", p)
	}

	// Other variants, a lower pixel limit, quality.
	for i, o := range run(`{"variants": [100], "max_megapixels": 0.1, "quality": 50}`) {
		switch items[i].Name {
		case "rotated.jpg":
			if o.Error != "image is 400×600 (0.2 MP), over the 0.1 MP thumbnail limit" { // dimensions as stored
				t.Errorf("rotated.jpg with max_megapixels 0.1: %+v", o)
			}
		case "alpha.png":
			if want := `{"variants":[{"variant":"100","width":100,"height":67,"format":"png"}]}`; string(o.Data) != want {
				t.Errorf("alpha.png with variants [100]: %s %s", o.Data, o.Error)
			}
		}
	}
	// A config that does not decode fails every item, saying so.
	for _, o := range run(`{"variants": "big"}`) {
		if !strings.HasPrefix(o.Error, "reading the thumbnail config: ") {
			t.Errorf("bad config: %+v", o)
		}
	}
	if d := fake.Denials(); len(d) != 0 {
		t.Errorf("denied calls: %+v", d)
	}
}

func keys(m map[string][]byte) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}
