package registry

import (
	"encoding/json"
	"testing"
)

// FuzzParseIndex: ParseIndex on any bytes returns a valid index or an error, never panics;
// an index it accepts validates again after a JSON round trip.
func FuzzParseIndex(f *testing.F) {
	f.Add([]byte(`{"format":1,"extensions":{}}`))
	f.Add([]byte(`{"format":1,"extensions":{"dev.a.b":{"versions":[{"version":"1.0.0","name":"A","abi":"^1.0","kind":"wasm","url":"a.cairnpkg","blake3":"0000000000000000000000000000000000000000000000000000000000000000","size":1,"key_id":"0123456789abcdef","dependencies":[{"id":"dev.c.d","version":"^1"}]}]}}}`))
	f.Add([]byte(`{"format":2}`))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, data []byte) {
		idx, err := ParseIndex(data)
		if err != nil {
			return
		}
		b, err := json.Marshal(idx)
		if err != nil {
			t.Fatalf("encoding an accepted index: %v", err)
		}
		if _, err := ParseIndex(b); err != nil {
			t.Fatalf("an accepted index does not parse after a round trip: %v", err)
		}
	})
}
