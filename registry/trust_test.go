package registry

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cairnfs/cairn/registry/cairnpkg"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

var t0 = time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)

// fixedKey is a registry key from a fixed seed, so signed golden indexes are reproducible
// (Ed25519 signatures are deterministic).
func fixedKey(seed byte) ed25519.PrivateKey {
	return ed25519.NewKeyFromSeed(bytes.Repeat([]byte{seed}, ed25519.SeedSize))
}

// signedIndex returns a small index signed by key at version v, valid for a day from t0.
func signedIndex(t *testing.T, key ed25519.PrivateKey, v int64) (*Index, []byte) {
	t.Helper()
	idx := goldenIndex()
	idx.Version, idx.Expires = v, t0.Add(24*time.Hour)
	data, err := SignIndex(idx, key)
	if err != nil {
		t.Fatal(err)
	}
	back, err := ParseIndex(data)
	if err != nil {
		t.Fatalf("parsing a signed index: %v\n%s", err, data)
	}
	return back, data
}

func goldenIndex() *Index {
	return &Index{Format: IndexFormat, Extensions: map[string]*Extension{
		"dev.cairn.photos": {Versions: []Release{{
			Version: "1.2.3", Name: "Photos", Description: "Faces, places & <moments>.", ABI: ">=1.0, <2.0", Kind: "wasm",
			URL: "dev.cairn.photos/1.2.3.cairnpkg", BLAKE3: strings.Repeat("ab", 32), Size: 1234, KeyID: "5be0c0d4a1e6f7a2",
		}}},
	}}
}

// TestIndexGolden: the signed and unsigned encodings of the same index, byte for byte (run with
// -update to rewrite), and an index written before versions and signatures still reads.
func TestIndexGolden(t *testing.T) {
	_, signed := signedIndex(t, fixedKey(1), 7)
	unsigned, err := goldenIndex().Encode()
	if err != nil {
		t.Fatal(err)
	}
	for name, got := range map[string][]byte{"signed.json": signed, "unsigned.json": unsigned} {
		p := filepath.Join("testdata", "index", name)
		if *update {
			os.WriteFile(p, got, 0o644)
		}
		want, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s differs from the golden file:\n%s", name, got)
		}
		if _, err := ParseIndex(want); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
	// The golden signed index verifies as it is stored, also re-indented (a proxy that
	// reformats JSON does not break the signature), and not with a byte of content changed.
	want, _ := os.ReadFile(filepath.Join("testdata", "index", "signed.json"))
	idx, err := ParseIndex(want)
	if err != nil || idx.Signature == nil || idx.Version != 7 || idx.Signature.KeyID != cairnpkg.KeyID(fixedKey(1).Public().(ed25519.PublicKey)) {
		t.Fatalf("golden signed index: %+v, %v", idx, err)
	}
	var compact bytes.Buffer
	if err := jsonCompact(&compact, want); err != nil {
		t.Fatal(err)
	}
	if again, err := ParseIndex(compact.Bytes()); err != nil || again.Digest() != idx.Digest() {
		t.Fatalf("the compacted signed index: %v (digest %s vs %s)", err, again.Digest(), idx.Digest())
	}
	legacy, err := os.ReadFile(filepath.Join("testdata", "index", "format1-before-signing.json"))
	if err != nil {
		t.Fatal(err)
	}
	if old, err := ParseIndex(legacy); err != nil || old.Version != 0 || old.Signature != nil || len(old.Releases("dev.cairn.photos")) != 1 {
		t.Fatalf("an index from before signing: %+v, %v", old, err)
	}
}

// TestParseSignedIndexRefuses: a signature that does not cover the index as served.
func TestParseSignedIndexRefuses(t *testing.T) {
	_, data := signedIndex(t, fixedKey(1), 3)
	other := fixedKey(2).Public().(ed25519.PublicKey)
	for _, c := range []struct{ name, old, new string }{
		{"content changed", `"size": 1234`, `"size": 1235`},
		{"version changed", `"version": 3`, `"version": 4`},
		{"expiry changed", `"expires": "2026-03-02T10:00:00Z"`, `"expires": "2027-03-02T10:00:00Z"`},
		{"member added", `"format": 1,`, `"format": 1, "mirror": "x",`},
		{"key swapped", b64(fixedKey(1).Public().(ed25519.PublicKey)), b64(other)},
		{"algorithm", `"algorithm": "ed25519"`, `"algorithm": "rsa"`},
	} {
		bad := strings.Replace(string(data), c.old, c.new, 1)
		if bad == string(data) {
			t.Fatalf("%s: fixture: %q not in the index", c.name, c.old)
		}
		if _, err := ParseIndex([]byte(bad)); !errors.Is(err, ErrBadIndexSignature) {
			t.Errorf("%s: %v; want ErrBadIndexSignature", c.name, err)
		}
	}
	// A signed index must carry a version and an expiry.
	idx := goldenIndex()
	if _, err := SignIndex(idx, fixedKey(1)); !errors.Is(err, ErrInvalidIndex) || !strings.Contains(err.Error(), "version") || !strings.Contains(err.Error(), "expiry") {
		t.Fatalf("signing without version and expiry: %v", err)
	}
}

// TestPinsCheck: the client's trust decisions, one row per case.
func TestPinsCheck(t *testing.T) {
	k1, k2 := fixedKey(1), fixedKey(2)
	v3, _ := signedIndex(t, k1, 3)
	v5, _ := signedIndex(t, k1, 5)
	v5other := goldenIndex()
	v5other.Version, v5other.Expires = 5, t0.Add(24*time.Hour)
	v5other.Extensions["dev.cairn.photos"].Versions[0].Size = 999
	if _, err := SignIndex(v5other, k1); err != nil {
		t.Fatal(err)
	}
	v6k2, _ := signedIndex(t, k2, 6)
	unsigned, _ := ParseIndex(mustEncode(t, goldenIndex()))
	const src = "https://reg.example/index.json"
	seen5 := func(p *Pins) { p.Check(src, v5, Policy{Now: t0}) }
	for _, c := range []struct {
		name   string
		before func(*Pins)
		idx    *Index
		pol    Policy
		want   error
		first  bool
	}{
		{name: "first use pins the key", idx: v5, pol: Policy{Now: t0}, first: true},
		{name: "same index again", before: seen5, idx: v5, pol: Policy{Now: t0}},
		{name: "newer index", before: func(p *Pins) { p.Check(src, v3, Policy{Now: t0}) }, idx: v5, pol: Policy{Now: t0}},
		{name: "rollback to an older version", before: seen5, idx: v3, pol: Policy{Now: t0}, want: ErrIndexRollback},
		{name: "same version other content", before: seen5, idx: v5other, pol: Policy{Now: t0}, want: ErrIndexFork},
		{name: "expired (freeze)", idx: v5, pol: Policy{Now: t0.Add(25 * time.Hour)}, want: ErrIndexExpired},
		{name: "expires exactly now", idx: v5, pol: Policy{Now: t0.Add(24 * time.Hour)}, want: ErrIndexExpired},
		{name: "expired even when pinned", before: seen5, idx: v5, pol: Policy{Now: t0.Add(48 * time.Hour)}, want: ErrIndexExpired},
		{name: "another key", before: seen5, idx: v6k2, pol: Policy{Now: t0}, want: ErrRegistryKeyChanged},
		{name: "unsigned remote", idx: unsigned, pol: Policy{Now: t0}, want: ErrUnsignedIndex},
		{name: "unsigned remote allowed", idx: unsigned, pol: Policy{Now: t0, AllowUnsigned: true}},
		{name: "unsigned local folder", idx: unsigned, pol: Policy{Now: t0, Local: true}},
		{name: "pinned ahead, signed by that key", before: func(p *Pins) { p.Pin(src, k1.Public().(ed25519.PublicKey)) }, idx: v3, pol: Policy{Now: t0}},
		{name: "pinned ahead, signed by another key", before: func(p *Pins) { p.Pin(src, k2.Public().(ed25519.PublicKey)) }, idx: v3, pol: Policy{Now: t0}, want: ErrRegistryKeyChanged},
		{name: "pinned ahead, unsigned", before: func(p *Pins) { p.Pin(src, k1.Public().(ed25519.PublicKey)) }, idx: unsigned, pol: Policy{Now: t0, Local: true}, want: ErrUnsignedIndex},
		{name: "unsigned after signed", before: seen5, idx: unsigned, pol: Policy{Now: t0, Local: true, AllowUnsigned: true}, want: ErrUnsignedIndex},
	} {
		t.Run(c.name, func(t *testing.T) {
			p, err := LoadPins(filepath.Join(t.TempDir(), "registries.json"))
			if err != nil {
				t.Fatal(err)
			}
			if c.before != nil {
				c.before(p)
			}
			before := p.Registries[src]
			v, err := p.Check(src, c.idx, c.pol)
			if !errors.Is(err, c.want) || (c.want == nil) != (err == nil) {
				t.Fatalf("Check: %v; want %v", err, c.want)
			}
			if err != nil {
				if p.Registries[src] != before {
					t.Fatal("a refused index changed the pin")
				}
				return
			}
			if v.FirstUse != c.first || v.Unsigned != (c.idx.Signature == nil) {
				t.Fatalf("verdict %+v", v)
			}
			if c.idx.Signature != nil && (p.Registries[src].Version != c.idx.Version || p.Registries[src].KeyID != c.idx.Signature.KeyID) {
				t.Fatalf("pin after check: %+v", p.Registries[src])
			}
		})
	}
}

// TestPinsFile: pins survive a save and load; a damaged file is an error, not an empty trust.
func TestPinsFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "keys", "registries.json")
	p, _ := LoadPins(path)
	v5, _ := signedIndex(t, fixedKey(1), 5)
	if _, err := p.Check("/reg", v5, Policy{Now: t0}); err != nil {
		t.Fatal(err)
	}
	if err := p.Save(); err != nil {
		t.Fatal(err)
	}
	back, err := LoadPins(path)
	if err != nil || back.Registries["/reg"].Version != 5 || back.Registries["/reg"].Digest != v5.Digest() {
		t.Fatalf("pins after a reload: %+v, %v", back.Registries["/reg"], err)
	}
	if !back.Forget("/reg") || back.Forget("/reg") {
		t.Fatal("Forget")
	}
	os.WriteFile(path, []byte(`{"format":1,"registries":{"/reg":{"key_id":"00","public_key":"AAAA"}}}`), 0o644)
	if _, err := LoadPins(path); err == nil {
		t.Fatal("a pin with a bad key loaded")
	}
}

// TestHostileTrust: a registry (or whoever sits between it and the client) serving an index
// that is not the newest one the registry signed. The client (CheckedIndex, as `ext install`
// and `ext update` use it) refuses each.
func TestHostileTrust(t *testing.T) {
	ctx := context.Background()
	// setup publishes dev.a.b 1.0.0 and 2.0.0 in a registry folder signed by key, served over
	// HTTP, and has a client read it once (pinning the key at version 1).
	setup := func(t *testing.T) (dir string, key ed25519.PrivateKey, c *Client, pins *Pins) {
		dir, key = t.TempDir(), newKey(t)
		publish(t, dir, key, ext{id: "dev.a.b", version: "1.0.0"})
		publish(t, dir, key, ext{id: "dev.a.b", version: "2.0.0"})
		if _, err := BuildIndexWith(dir, BuildOptions{Key: key}); err != nil {
			t.Fatal(err)
		}
		srv := httptest.NewServer(Handler(dir))
		t.Cleanup(srv.Close)
		c, _ = NewClient(srv.URL)
		pins, _ = LoadPins(filepath.Join(t.TempDir(), "registries.json"))
		if _, v, err := c.CheckedIndex(ctx, pins, Policy{}); err != nil || !v.FirstUse {
			t.Fatalf("first use: %+v, %v", v, err)
		}
		return dir, key, c, pins
	}
	// The registry drops 2.0.0 by replaying the index from before it was published.
	t.Run("index-rollback", func(t *testing.T) {
		dir, key, c, pins := setup(t)
		old, _ := os.ReadFile(filepath.Join(dir, IndexFile))
		publish(t, dir, key, ext{id: "dev.a.b", version: "3.0.0"})
		if _, err := BuildIndexWith(dir, BuildOptions{Key: key}); err != nil {
			t.Fatal(err)
		}
		if idx, _, err := c.CheckedIndex(ctx, pins, Policy{}); err != nil || idx.Version != 2 {
			t.Fatalf("the newer index: %v", err)
		}
		os.WriteFile(filepath.Join(dir, IndexFile), old, 0o644)
		_, _, err := c.CheckedIndex(ctx, pins, Policy{})
		if !errors.Is(err, ErrIndexRollback) || !strings.Contains(err.Error(), "version 1 is older than version 2") {
			t.Fatalf("a replayed older index: %v; want ErrIndexRollback", err)
		}
	})
	// A mirror keeps serving the last index it had, forever.
	t.Run("index-freeze", func(t *testing.T) {
		_, _, c, pins := setup(t)
		_, _, err := c.CheckedIndex(ctx, pins, Policy{Now: time.Now().Add(DefaultIndexTTL + time.Hour)})
		if !errors.Is(err, ErrIndexExpired) {
			t.Fatalf("an index past its expiry: %v; want ErrIndexExpired", err)
		}
	})
	// Someone who can write the folder (or the wire) edits a release's hash and size.
	t.Run("index-tampered", func(t *testing.T) {
		dir, _, c, pins := setup(t)
		p := filepath.Join(dir, IndexFile)
		b, _ := os.ReadFile(p)
		os.WriteFile(p, bytes.Replace(b, []byte(`"version": "2.0.0"`), []byte(`"version": "2.0.1"`), 1), 0o644)
		if _, _, err := c.CheckedIndex(ctx, pins, Policy{}); !errors.Is(err, ErrBadIndexSignature) {
			t.Fatalf("an edited signed index: %v; want ErrBadIndexSignature", err)
		}
	})
	// Someone re-signs the registry with their own key.
	t.Run("index-key-changed", func(t *testing.T) {
		dir, _, c, pins := setup(t)
		if _, err := SignIndexDir(dir, BuildOptions{Key: newKey(t)}); err != nil {
			t.Fatal(err)
		}
		if _, _, err := c.CheckedIndex(ctx, pins, Policy{}); !errors.Is(err, ErrRegistryKeyChanged) {
			t.Fatalf("an index signed by another key: %v; want ErrRegistryKeyChanged", err)
		}
	})
	// Someone strips the signature (and so the version and expiry checks).
	t.Run("index-signature-stripped", func(t *testing.T) {
		dir, _, c, pins := setup(t)
		if _, err := BuildIndex(dir); err != nil {
			t.Fatal(err)
		}
		if _, _, err := c.CheckedIndex(ctx, pins, Policy{AllowUnsigned: true}); !errors.Is(err, ErrUnsignedIndex) {
			t.Fatalf("an unsigned index from a signed registry: %v; want ErrUnsignedIndex", err)
		}
	})
}

func mustEncode(t *testing.T, idx *Index) []byte {
	b, err := idx.Encode()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func b64(b []byte) string { return base64.StdEncoding.EncodeToString(b) }

func jsonCompact(dst *bytes.Buffer, src []byte) error { return json.Compact(dst, src) }
