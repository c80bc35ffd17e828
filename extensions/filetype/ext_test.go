//go:build !wasip1

package main

import (
	"encoding/json"
	"testing"

	"github.com/cairnfs/cairn/sdk/exttest"
)

// TestConformance builds the WASM module and runs the exttest suite; the
// golden batch (exttest's default fixture) must be typed as file(1) would.
func TestConformance(t *testing.T) {
	want := map[string]string{ // by item name
		"pixel.png": "image/png",
		"hello.txt": "text/plain",
		"empty.txt": "inode/x-empty",
		"doc.json":  "application/json",
		"table.csv": "text/csv",
		"poem.md":   "text/markdown",
	}
	exttest.Run(t, ".", exttest.Options{
		Verify: func(r exttest.Reporter, g exttest.Golden) {
			seen := 0
			for i, it := range g.Items {
				o := g.Outcomes[i]
				if o.Error != "" {
					r.Errorf("%s: %s", it.Name, o.Error)
					continue
				}
				var res struct {
					Mime, Kind, By, Name string
					Confidence           float64
				}
				if err := json.Unmarshal(o.Data, &res); err != nil || res.Mime == "" || res.Kind == "" || res.By == "" {
					r.Errorf("%s: outcome %s (%v)", it.Name, o.Data, err)
					continue
				}
				if w, ok := want[it.Name]; ok {
					seen++
					if res.Mime != w {
						r.Errorf("%s: mime %s, want %s", it.Name, res.Mime, w)
					}
				}
			}
			if seen != len(want) {
				r.Errorf("golden batch checked %d of the %d expected files", seen, len(want))
			}
			if len(g.Calls) != 0 {
				r.Errorf("the stage made %d host calls, want none (the outcome carries the type)", len(g.Calls))
			}
		},
	})
}
