package registry

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

// FuzzParseIndex: ParseIndex on any bytes returns a valid index or an error, never panics;
// an index it accepts validates again after a JSON round trip (without its signature, which
// covers the bytes as served, not a re-encoding), and parsing is deterministic.
func FuzzParseIndex(f *testing.F) {
	f.Add([]byte(`{"format":1,"extensions":{}}`))
	f.Add([]byte(`{"format":1,"extensions":{"dev.a.b":{"versions":[{"version":"1.0.0","name":"A","abi":"^1.0","kind":"wasm","url":"a.cairnpkg","blake3":"0000000000000000000000000000000000000000000000000000000000000000","size":1,"key_id":"0123456789abcdef","dependencies":[{"id":"dev.c.d","version":"^1"}]}]}}}`))
	f.Add([]byte(`{"format":2}`))
	f.Add([]byte(`[]`))
	if signed, err := os.ReadFile(filepath.Join("testdata", "index", "signed.json")); err == nil {
		f.Add(signed)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		idx, err := ParseIndex(data)
		if err != nil {
			return
		}
		if again, err := ParseIndex(data); err != nil || again.Digest() != idx.Digest() {
			t.Fatalf("parsing the same bytes twice: %v", err)
		}
		idx.Signature = nil
		b, err := json.Marshal(idx)
		if err != nil {
			t.Fatalf("encoding an accepted index: %v", err)
		}
		if _, err := ParseIndex(b); err != nil {
			t.Fatalf("an accepted index does not parse after a round trip: %v", err)
		}
	})
}
