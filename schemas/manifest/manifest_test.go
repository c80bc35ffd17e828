package manifest

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestGolden parses every testdata/valid manifest (must pass, and survive an encode/parse round
// trip) and every testdata/invalid one (must fail with the error named on its first line).
func TestGolden(t *testing.T) {
	valid, _ := filepath.Glob("testdata/valid/*.toml")
	invalid, _ := filepath.Glob("testdata/invalid/*.toml")
	if len(valid) == 0 || len(invalid) == 0 {
		t.Fatal("no golden manifests")
	}
	for _, p := range valid {
		t.Run(filepath.Base(p), func(t *testing.T) {
			b, _ := os.ReadFile(p)
			m, err := Parse(b)
			if err != nil {
				t.Fatal(err)
			}
			enc, err := m.Encode()
			if err != nil {
				t.Fatal(err)
			}
			if _, err := Parse(enc); err != nil {
				t.Fatalf("re-parsing the encoded manifest: %v\n%s", err, enc)
			}
		})
	}
	for _, p := range invalid {
		t.Run(filepath.Base(p), func(t *testing.T) {
			b, _ := os.ReadFile(p)
			first, _, _ := strings.Cut(string(b), "\n")
			want := strings.TrimSpace(strings.TrimPrefix(first, "# error:"))
			_, err := Parse(b)
			if err == nil || !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), want) {
				t.Fatalf("Parse = %v; want ErrInvalid mentioning %q", err, want)
			}
		})
	}
}

func TestABIAndDiff(t *testing.T) {
	b, _ := os.ReadFile("testdata/valid/full.toml")
	m, err := Parse(b)
	if err != nil {
		t.Fatal(err)
	}
	for v, want := range map[string]bool{"1.0": true, "1.7": true, "2.0": false, "0.9": false} {
		if ok, err := m.SupportsABI(v); err != nil || ok != want {
			t.Errorf("SupportsABI(%s) = %v, %v; want %v", v, ok, err, want)
		}
	}
	n := *m
	n.Capabilities = map[string]Scope{"entries.read": {Globs: []string{"**"}}, "kv": {}, "net": {Hosts: []string{"api.example.com"}}}
	added, removed, changed := CapabilityDiff(m, &n)
	if strings.Join(added, ",") != "net" || strings.Join(changed, ",") != "entries.read" ||
		strings.Join(removed, ",") != "content.read,metadata.write,models.own,sidecars.write" {
		t.Errorf("diff: added %v removed %v changed %v", added, removed, changed)
	}
}
