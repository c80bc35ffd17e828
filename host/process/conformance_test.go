package process

import (
	"encoding/json"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// TestHostABIConformance runs the golden messages of schemas/hostabi/testdata through a real
// extension process: host calls (the request the host receives, the answer the extension gets)
// and export calls (input in, output out) match v1.md's JSON.
func TestHostABIConformance(t *testing.T) {
	files, err := filepath.Glob("../../schemas/hostabi/testdata/*.json")
	if err != nil || len(files) == 0 {
		t.Fatalf("no golden files: %v", err)
	}
	abi := newFakeABI()
	x := start(t, Config{Dispatcher: abi})
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			var g struct {
				Request, Response, Input, Output json.RawMessage
			}
			if err := json.Unmarshal(b, &g); err != nil {
				t.Fatal(err)
			}
			switch {
			case g.Request != nil:
				abi.mu.Lock()
				abi.canned[canon(g.Request)] = g.Response
				n := len(abi.requests)
				abi.mu.Unlock()
				out := call(t, x, "relay", string(g.Request))
				abi.mu.Lock()
				got := abi.requests[n:]
				abi.mu.Unlock()
				if len(got) != 1 || canon(got[0]) != canon(g.Request) {
					t.Fatalf("the host received %q, want %s", got, g.Request)
				}
				var env map[string]json.RawMessage
				if err := json.Unmarshal(got[0], &env); err != nil {
					t.Fatal(err)
				}
				if keys := slices.Sorted(maps.Keys(env)); !slices.Equal(keys, []string{"args", "fn"}) {
					t.Fatalf("request envelope keys %q, want args, fn", keys)
				}
				if canon([]byte(out)) != canon(g.Response) {
					t.Fatalf("the extension got %s, want %s", out, g.Response)
				}
			case g.Input != nil:
				out := call(t, x, "stage", string(g.Input))
				if canon([]byte(out)) != canon(g.Output) {
					t.Fatalf("output %s, want %s", out, g.Output)
				}
			default:
				t.Fatal("neither request nor input")
			}
		})
	}
}
