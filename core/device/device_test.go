package device

import "testing"

func TestSlug(t *testing.T) {
	for in, want := range map[string]string{
		"Ann's MacBook Pro": "ann-s-macbook-pro", "nas-01": "nas-01", "  ": "device", "Ünïcode Box": "n-code-box", "---": "device",
	} {
		if got := Slug(in); got != want {
			t.Errorf("Slug(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestLoadOrCreateIsStable(t *testing.T) {
	dir := t.TempDir()
	a, err := LoadOrCreate(dir)
	if err != nil {
		t.Fatal(err)
	}
	b, err := LoadOrCreate(dir)
	if err != nil {
		t.Fatal(err)
	}
	if a.ID != b.ID || !a.PublicKey.Equal(b.PublicKey) {
		t.Fatal("identity changed between loads")
	}
}
