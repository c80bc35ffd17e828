package cairnpkg

import (
	"bytes"
	"crypto/ed25519"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cairnfs/cairn/schemas/manifest"
)

const hostABI = "1.0"

const helloManifest = `# comments are not kept
id = "dev.example.hello"
name = "Hello"
version = "0.1.0"
abi = "%ABI%"
kernel = ">=0.1"
kind = "wasm"

[entry]
file = "hello.wasm"

[capabilities]
"kv" = {}
"net" = { hosts = ["example.org"] }
"entries.read" = { globs = ["**/*.txt"] }
`

var helloModule = bytes.Repeat([]byte("\x00asm module bytes "), 100) // 1800 bytes: spans blocks

// writeExt writes an extension folder (manifest with the given ABI range, module) and returns it.
func writeExt(t testing.TB, abi string, module []byte) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "cairn.toml"), []byte(strings.ReplaceAll(helloManifest, "%ABI%", abi)), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "hello.wasm"), module, 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

func newKey(t testing.TB) ed25519.PrivateKey {
	t.Helper()
	_, k, err := GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func pub(k ed25519.PrivateKey) ed25519.PublicKey { return k.Public().(ed25519.PublicKey) }

func trusting(keys ...ed25519.PrivateKey) KeySet {
	s := KeySet{}
	for _, k := range keys {
		s.Trust(pub(k))
	}
	return s
}

// packBytes packs a hello extension with the given ABI range and returns the package file bytes.
func packBytes(t testing.TB, key ed25519.PrivateKey, abi string) []byte {
	t.Helper()
	var buf bytes.Buffer
	if _, err := Pack(writeExt(t, abi, helloModule), key, &buf); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func open(t testing.TB, data []byte) *Package {
	t.Helper()
	p, err := Open(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	return p
}

func TestPackVerify(t *testing.T) {
	key := newKey(t)
	dir := writeExt(t, "^1.0", helloModule)
	var buf bytes.Buffer
	m, err := Pack(dir, key, &buf)
	if err != nil {
		t.Fatal(err)
	}
	if m.Entry.BLAKE3 != HashHex(helloModule) {
		t.Fatalf("entry.blake3 = %q, want %q", m.Entry.BLAKE3, HashHex(helloModule))
	}
	if buf.Len()%blockSize != 0 {
		t.Fatalf("package is %d bytes, not whole blocks", buf.Len())
	}

	// Deterministic: same inputs, same bytes.
	var again bytes.Buffer
	if _, err := Pack(dir, key, &again); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(buf.Bytes(), again.Bytes()) {
		t.Fatal("Pack is not deterministic")
	}
	// The source folder is untouched.
	if src, _ := os.ReadFile(filepath.Join(dir, "cairn.toml")); bytes.Contains(src, []byte("blake3")) {
		t.Fatal("Pack modified the source manifest")
	}

	p := open(t, buf.Bytes())
	if p.Manifest.ID != "dev.example.hello" || p.Manifest.Entry.BLAKE3 != m.Entry.BLAKE3 {
		t.Fatalf("opened manifest = %+v", p.Manifest)
	}
	if got, err := manifest.Parse(p.ManifestBytes); err != nil || got.Entry.BLAKE3 != m.Entry.BLAKE3 {
		t.Fatalf("ManifestBytes do not parse to the packed manifest: %v", err)
	}
	mod := make([]byte, p.ModuleSize())
	if _, err := p.Module().ReadAt(mod, 0); err != nil || !bytes.Equal(mod, helloModule) {
		t.Fatalf("module bytes differ (%v)", err)
	}
	if p.Signature.KeyID != KeyID(pub(key)) {
		t.Fatalf("signature key id = %s, want %s", p.Signature.KeyID, KeyID(pub(key)))
	}

	v, err := Verify(p, trusting(key), VerifyOptions{HostABI: hostABI, Kernel: "0.1.0"})
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	if !v.KeyTrusted || v.KeyID != KeyID(pub(key)) {
		t.Fatalf("verified key = %s trusted=%v", v.KeyID, v.KeyTrusted)
	}
	var names []string
	for _, c := range v.Capabilities {
		names = append(names, c.Name)
		if c.Description == "" {
			t.Errorf("capability %s has no description", c.Name)
		}
	}
	if strings.Join(names, ",") != "entries.read,kv,net" {
		t.Fatalf("capabilities = %v", names)
	}
	if h := v.Capabilities[2].Scope.Hosts; len(h) != 1 || h[0] != "example.org" {
		t.Fatalf("net scope = %v", h)
	}
}

func TestPackFileOpenFile(t *testing.T) {
	key := newKey(t)
	out := filepath.Join(t.TempDir(), "hello-0.1.0"+Ext)
	if _, err := PackFile(writeExt(t, "^1.0", helloModule), key, out); err != nil {
		t.Fatal(err)
	}
	p, f, err := OpenFile(out)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := Verify(p, trusting(key), VerifyOptions{HostABI: hostABI}); err != nil {
		t.Fatal(err)
	}
	if sum, size, err := HashFile(out); err != nil || len(sum) != 64 || size == 0 {
		t.Fatalf("HashFile = %q, %d, %v", sum, size, err)
	}
}

func TestHostilePackRefuses(t *testing.T) {
	key := newKey(t)
	t.Run("missing module", func(t *testing.T) {
		dir := writeExt(t, "^1.0", helloModule)
		os.Remove(filepath.Join(dir, "hello.wasm"))
		if _, err := Pack(dir, key, &bytes.Buffer{}); err == nil {
			t.Fatal("packed without a module")
		}
	})
	t.Run("invalid manifest", func(t *testing.T) {
		dir := writeExt(t, "not a range", helloModule)
		if _, err := Pack(dir, key, &bytes.Buffer{}); !errors.Is(err, manifest.ErrInvalid) {
			t.Fatalf("err = %v, want manifest.ErrInvalid", err)
		}
	})
	t.Run("bad key", func(t *testing.T) {
		if _, err := Pack(writeExt(t, "^1.0", helloModule), key[:10], &bytes.Buffer{}); err == nil {
			t.Fatal("packed with a truncated key")
		}
	})
}

// TestVerifySteps checks each failure is refused at its step, with its sentinel, and that the
// steps run in order (signature → hash → ABI → kernel).
func TestVerifySteps(t *testing.T) {
	key, other := newKey(t), newKey(t)
	good := packBytes(t, key, "^1.0")
	p := open(t, good)

	tamperModule := bytes.Clone(good)
	tamperModule[p.moduleOff+100] ^= 0x01

	tamperManifest := bytes.Clone(good)
	i := bytes.Index(tamperManifest, []byte(`"Hello"`))
	tamperManifest[i+1] = 'J' // still a valid manifest, no longer the signed bytes

	// The manifest's signature replaced by another key's, the claimed key left as is.
	forged := rebuild(t, good, func(name string, data []byte) []byte {
		if name != SignatureMember {
			return data
		}
		s, _ := parseSignature(data)
		s.Signature = ed25519.Sign(other, p.ManifestBytes)
		return marshalSig(t, s)
	})
	// Wholly re-signed by another key.
	resigned := rebuild(t, good, func(name string, data []byte) []byte {
		if name != SignatureMember {
			return data
		}
		return marshalSig(t, Signature{Format: 1, Algorithm: AlgEd25519, KeyID: KeyID(pub(other)), PublicKey: pub(other), Signature: ed25519.Sign(other, p.ManifestBytes)})
	})
	// Bad hash and bad ABI at once: the hash is reported (it is checked first).
	hashAndABI := packBytes(t, key, ">=2.0")
	q := open(t, hashAndABI)
	hashAndABI[q.moduleOff] ^= 0x01
	// Bad signature and bad hash at once: the signature is reported.
	sigAndHash := bytes.Clone(tamperManifest)
	sigAndHash[p.moduleOff] ^= 0x01

	cases := []struct {
		name    string
		data    []byte
		trust   TrustStore
		opts    VerifyOptions
		want    error
		mention []string
	}{
		{"tampered module byte", tamperModule, trusting(key), VerifyOptions{}, ErrHashMismatch, []string{HashHex(helloModule)}},
		{"tampered manifest byte", tamperManifest, trusting(key), VerifyOptions{}, ErrBadSignature, nil},
		{"signature by another key", forged, trusting(key, other), VerifyOptions{}, ErrBadSignature, nil},
		{"signed by an untrusted key", resigned, trusting(key), VerifyOptions{}, ErrUntrustedKey, []string{KeyID(pub(other))}},
		{"unknown key, no AllowUnknownKey", good, nil, VerifyOptions{}, ErrUntrustedKey, []string{"not trusted"}},
		{"different key under the same id", good, KeySet{KeyID(pub(key)): pub(other)}, VerifyOptions{AllowUnknownKey: true}, ErrUntrustedKey, []string{"different key"}},
		{"ABI needs a newer host", packBytes(t, key, ">=2.0"), trusting(key), VerifyOptions{}, ErrABIMismatch, []string{">=2.0", "provides 1.0", "upgrade cairn"}},
		{"ABI needs an older host", packBytes(t, key, "<1.0"), trusting(key), VerifyOptions{}, ErrABIMismatch, []string{"<1.0", "provides 1.0", "update the extension"}},
		{"kernel too old", good, trusting(key), VerifyOptions{Kernel: "0.0.9"}, ErrKernelMismatch, []string{">=0.1", "0.0.9", "upgrade cairn"}},
		{"hash before ABI", hashAndABI, trusting(key), VerifyOptions{}, ErrHashMismatch, nil},
		{"signature before hash", sigAndHash, trusting(key), VerifyOptions{}, ErrBadSignature, nil},
	}
	sentinels := []error{ErrBadSignature, ErrUntrustedKey, ErrHashMismatch, ErrABIMismatch, ErrKernelMismatch, ErrCorruptPackage}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			c.opts.HostABI = hostABI
			_, err := Verify(open(t, c.data), c.trust, c.opts)
			if !errors.Is(err, c.want) {
				t.Fatalf("err = %v, want %v", err, c.want)
			}
			for _, s := range sentinels {
				if s != c.want && errors.Is(err, s) {
					t.Fatalf("err = %v also matches %v", err, s)
				}
			}
			for _, s := range c.mention {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("err %q does not mention %q", err, s)
				}
			}
		})
	}
}

func TestVerifyUnknownKeyAllowed(t *testing.T) {
	key := newKey(t)
	v, err := Verify(open(t, packBytes(t, key, "^1.0")), nil, VerifyOptions{HostABI: hostABI, AllowUnknownKey: true})
	if err != nil {
		t.Fatal(err)
	}
	if v.KeyTrusted || v.KeyID != KeyID(pub(key)) {
		t.Fatalf("KeyTrusted=%v KeyID=%s", v.KeyTrusted, v.KeyID)
	}
	if _, err := Verify(v.Package, nil, VerifyOptions{}); err == nil {
		t.Fatal("Verify without HostABI succeeded")
	}
}

func TestTooOld(t *testing.T) {
	cases := []struct {
		r, v string
		want Side
	}{
		{">=2.0", "1.0", SideHost},
		{">=1.3, <2.0", "1.2", SideHost},
		{"^2.1", "2.0", SideHost},
		{"<1.0", "1.0", SideExtension},
		{"^1.0", "2.0", SideExtension},
		{"~1.2", "1.5", SideExtension},
		{"1.0 || 3.0", "2.0", SideUnknown},
		{"^1.0", "1.4", SideUnknown}, // admitted: neither side
	}
	for _, c := range cases {
		if got := TooOld(c.r, c.v); got != c.want {
			t.Errorf("TooOld(%q, %q) = %v, want %v", c.r, c.v, got, c.want)
		}
	}
}
