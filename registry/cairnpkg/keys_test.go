package cairnpkg

import (
	"bytes"
	"crypto/ed25519"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/zeebo/blake3"
)

func TestKeys(t *testing.T) {
	pubKey, key, err := GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	sum := blake3.Sum256(pubKey)
	if id := KeyID(pubKey); len(id) != 16 || id != hex.EncodeToString(sum[:])[:16] {
		t.Fatalf("KeyID = %q", id)
	}

	dir := t.TempDir()
	priv := filepath.Join(dir, "publisher.key")
	if err := SavePrivateKey(priv, key); err != nil {
		t.Fatal(err)
	}
	fi, _ := os.Stat(priv)
	if runtime.GOOS != "windows" && fi.Mode().Perm() != 0o600 {
		t.Fatalf("private key mode %04o, want 0600", fi.Mode().Perm())
	}
	if err := SavePrivateKey(priv, key); err == nil || !strings.Contains(err.Error(), "already exists") {
		t.Fatalf("overwrite: %v", err)
	}
	back, err := LoadPrivateKey(priv)
	if err != nil || !bytes.Equal(back, key) {
		t.Fatalf("LoadPrivateKey: %v", err)
	}
	if runtime.GOOS != "windows" {
		os.Chmod(priv, 0o644)
		if _, err := LoadPrivateKey(priv); err == nil || !strings.Contains(err.Error(), "chmod 600") {
			t.Fatalf("world-readable key loaded: %v", err)
		}
	}

	pubPath := filepath.Join(dir, "publisher.pub")
	if err := SavePublicKey(pubPath, pubKey); err != nil {
		t.Fatal(err)
	}
	gotPub, err := LoadPublicKey(pubPath)
	if err != nil || !gotPub.Equal(pubKey) {
		t.Fatalf("LoadPublicKey: %v", err)
	}
	if _, err := LoadPrivateKey(pubPath); err == nil {
		t.Fatal("a public key loaded as a private key")
	}
}

func TestKeyring(t *testing.T) {
	path := filepath.Join(t.TempDir(), "keyring.json")
	k, err := LoadKeyring(path)
	if err != nil || len(k.Keys) != 0 {
		t.Fatalf("missing keyring: %v", err)
	}
	p1, _, _ := GenerateKey()
	p2, _, _ := GenerateKey()
	if err := k.Add(p1, "alice"); err != nil {
		t.Fatal(err)
	}
	if err := k.Add(p1, ""); err != nil { // idempotent, keeps the comment
		t.Fatal(err)
	}
	k.Add(p2, "bob")
	if err := k.Save(); err != nil {
		t.Fatal(err)
	}
	k2, err := LoadKeyring(path)
	if err != nil || len(k2.Keys) != 2 {
		t.Fatalf("reloaded: %+v %v", k2, err)
	}
	got, ok := k2.TrustedKey(KeyID(p1))
	if !ok || !got.Equal(p1) {
		t.Fatal("alice's key not trusted after reload")
	}
	for _, tk := range k2.Keys {
		if tk.ID == KeyID(p1) && tk.Comment != "alice" {
			t.Fatalf("comment = %q", tk.Comment)
		}
	}
	if !k2.Remove(KeyID(p2)) || k2.Remove(KeyID(p2)) {
		t.Fatal("Remove")
	}
	if _, ok := k2.TrustedKey(KeyID(p2)); ok {
		t.Fatal("removed key still trusted")
	}

	// A keyring whose entry does not match its id is refused.
	os.WriteFile(path, []byte(`{"format":1,"keys":[{"id":"0000000000000000","public_key":"`+
		"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="+`","added":"2026-01-01T00:00:00Z"}]}`), 0o644)
	if _, err := LoadKeyring(path); err == nil {
		t.Fatal("mismatched keyring entry accepted")
	}

	// Verify against a keyring.
	_, key, _ := GenerateKey()
	data := packBytes(t, key, "^1.0")
	if _, err := Verify(open(t, data), k2, VerifyOptions{HostABI: hostABI}); !errors.Is(err, ErrUntrustedKey) {
		t.Fatalf("untrusted: %v", err)
	}
	k2.Add(key.Public().(ed25519.PublicKey), "")
	if _, err := Verify(open(t, data), k2, VerifyOptions{HostABI: hostABI}); err != nil {
		t.Fatal(err)
	}
}
