package resolve

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cairnfs/cairn/registry"
)

var update = flag.Bool("update", false, "rewrite the expected output of testdata/cases")

// loadIndex reads testdata/<name>.index.json. The files list only what resolution reads; the
// loader fills in the fields every real index has (url, blake3, size, key_id, kind, name)
// before validating.
func loadIndex(t *testing.T, name string) *registry.Index {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", name+".index.json"))
	if err != nil {
		t.Fatal(err)
	}
	idx, err := registry.ParseIndex(data)
	if err == nil {
		return idx
	}
	// Fill the defaults, then validate for real.
	idx = &registry.Index{}
	if err := json.Unmarshal(data, idx); err != nil {
		t.Fatal(err)
	}
	for id, e := range idx.Extensions {
		for i := range e.Versions {
			r := &e.Versions[i]
			r.URL = fmt.Sprintf("%s-%s.cairnpkg", id, r.Version)
			r.BLAKE3 = strings.Repeat("0", 64)
			r.Size, r.KeyID, r.Kind, r.Name = 1, "0123456789abcdef", "wasm", id
		}
	}
	if err := idx.Validate(); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return idx
}

// TestGolden runs testdata/cases/*.txt: "key: value" lines (index, request: ID [RANGE],
// installed: ID VERSION, host-abi, kernel; # comments), then "----" and the expected plan
// (Plan.String) or "error (KIND): MESSAGE". Run with -update to rewrite the expectations.
func TestGolden(t *testing.T) {
	files, err := filepath.Glob("testdata/cases/*.txt")
	if err != nil || len(files) == 0 {
		t.Fatalf("no cases (%v)", err)
	}
	for _, file := range files {
		t.Run(strings.TrimSuffix(filepath.Base(file), ".txt"), func(t *testing.T) {
			data, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			input, want, _ := strings.Cut(string(data), "----\n")
			var idx *registry.Index
			var reqs []Request
			installed := map[string]string{}
			var opts Options
			for _, line := range strings.Split(input, "\n") {
				line = strings.TrimSpace(line)
				if line == "" || strings.HasPrefix(line, "#") {
					continue
				}
				key, val, ok := strings.Cut(line, ":")
				if !ok {
					t.Fatalf("bad line %q", line)
				}
				f := strings.Fields(val)
				switch key {
				case "index":
					idx = loadIndex(t, f[0])
				case "request":
					r := Request{ID: f[0]}
					if len(f) > 1 {
						r.Constraint = strings.Join(f[1:], " ")
					}
					reqs = append(reqs, r)
				case "installed":
					installed[f[0]] = f[1]
				case "host-abi":
					opts.HostABI = f[0]
				case "kernel":
					opts.Kernel = f[0]
				default:
					t.Fatalf("unknown key %q", key)
				}
			}
			got := render(Resolve(idx, reqs, installed, opts))
			if *update {
				if err := os.WriteFile(file, []byte(strings.TrimRight(input, "\n")+"\n----\n"+got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			if got != want {
				t.Errorf("got:\n%s\nwant:\n%s", got, want)
			}
		})
	}
}

func render(p *Plan, err error) string {
	if err == nil {
		return p.String()
	}
	kind := "other"
	switch {
	case errors.Is(err, ErrCycle):
		kind = "cycle"
	case errors.Is(err, registry.ErrNotFound):
		kind = "not found"
	case errors.Is(err, ErrUnsatisfiable):
		kind = "unsatisfiable"
	}
	return fmt.Sprintf("error (%s): %v\n", kind, err)
}

func TestPlanSteps(t *testing.T) {
	idx := loadIndex(t, "deps")
	p, err := Resolve(idx, []Request{{ID: "dev.x.y", Constraint: "^2"}}, map[string]string{"dev.a.b": "1.0.0", "dev.bt.q": "1.0.0"}, Options{HostABI: "1.0"})
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Steps) != 3 {
		t.Fatalf("plan:\n%s", p)
	}
	ch := p.Changes()
	if len(ch) != 2 || ch[0].ID != "dev.a.b" || ch[0].Action != Upgrade || ch[0].From != "1.0.0" || ch[0].Version != "2.1.0" {
		t.Fatalf("changes = %+v", ch)
	}
	x := ch[1]
	if x.ID != "dev.x.y" || !x.Requested || x.Release == nil || x.Release.Version != "2.0.0" || x.Release.URL == "" {
		t.Fatalf("x step = %+v", x)
	}
	a := ch[0]
	if len(a.Constraints) != 1 || a.Constraints[0].By != "dev.x.y@2.0.0" || a.Constraints[0].Range != "^2" {
		t.Fatalf("a constraints = %+v", a.Constraints)
	}
}
