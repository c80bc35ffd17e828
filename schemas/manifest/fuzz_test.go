package manifest

import (
	"os"
	"path/filepath"
	"testing"
)

// FuzzParse: Parse on any bytes returns a manifest or an error, never panics or hangs; a
// manifest it accepts validates, encodes, and parses back to the same encoding.
func FuzzParse(f *testing.F) {
	for _, dir := range []string{"testdata/valid", "testdata/invalid"} {
		files, _ := filepath.Glob(filepath.Join(dir, "*.toml"))
		for _, p := range files {
			if b, err := os.ReadFile(p); err == nil {
				f.Add(b)
			}
		}
	}
	f.Add([]byte("id = \"dev.a.b\"\n[config]\n\"$ref\" = \"file:///dev/zero\"\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := Parse(data)
		if err != nil {
			return
		}
		if err := m.Validate(); err != nil {
			t.Fatalf("Parse accepted a manifest Validate refuses: %v", err)
		}
		enc, err := m.Encode()
		if err != nil {
			t.Fatalf("encoding an accepted manifest: %v", err)
		}
		m2, err := Parse(enc)
		if err != nil {
			t.Fatalf("the encoding of an accepted manifest does not parse: %v\n%s", err, enc)
		}
		enc2, err := m2.Encode()
		if err != nil || string(enc2) != string(enc) {
			t.Fatalf("encoding is not stable:\n%s\n---\n%s", enc, enc2)
		}
	})
}
