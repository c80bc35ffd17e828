package cairnpkg

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"runtime"

	"github.com/zeebo/blake3"
)

// KeyID names a publisher key: the first 16 hex characters of the BLAKE3-256 of the 32-byte
// Ed25519 public key.
func KeyID(pub ed25519.PublicKey) string {
	sum := blake3.Sum256(pub)
	return hex.EncodeToString(sum[:8])
}

// GenerateKey makes a new publisher key pair from crypto/rand.
func GenerateKey() (ed25519.PublicKey, ed25519.PrivateKey, error) {
	return ed25519.GenerateKey(rand.Reader)
}

// SavePrivateKey writes key to path as PEM ("PRIVATE KEY", PKCS #8), mode 0600. It refuses to
// overwrite an existing file: losing a publisher key orphans every installed extension it signed.
func SavePrivateKey(path string, key ed25519.PrivateKey) error {
	if len(key) != ed25519.PrivateKeySize {
		return fmt.Errorf("saving key %s: private key is %d bytes, want %d", path, len(key), ed25519.PrivateKeySize)
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return fmt.Errorf("saving key %s: %w", path, err)
	}
	return writeNew(path, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600)
}

// LoadPrivateKey reads a key written by SavePrivateKey. On Unix it refuses a file that group or
// others can read, as ssh does.
func LoadPrivateKey(path string) (ed25519.PrivateKey, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("loading key: %w", err)
	}
	if runtime.GOOS != "windows" && fi.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("loading key %s: mode %04o lets others read it: chmod 600 %s", path, fi.Mode().Perm(), path)
	}
	block, err := readPEM(path, "PRIVATE KEY")
	if err != nil {
		return nil, err
	}
	k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("loading key %s: %w", path, err)
	}
	key, ok := k.(ed25519.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("loading key %s: a %T, want an Ed25519 key", path, k)
	}
	return key, nil
}

// SavePublicKey writes pub to path as PEM ("PUBLIC KEY", PKIX), mode 0644, refusing to
// overwrite. Publishers hand this file to users, who add it to their keyring.
func SavePublicKey(path string, pub ed25519.PublicKey) error {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return fmt.Errorf("saving public key %s: %w", path, err)
	}
	return writeNew(path, pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}), 0o644)
}

// LoadPublicKey reads a key written by SavePublicKey.
func LoadPublicKey(path string) (ed25519.PublicKey, error) {
	block, err := readPEM(path, "PUBLIC KEY")
	if err != nil {
		return nil, err
	}
	k, err := x509.ParsePKIXPublicKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("loading public key %s: %w", path, err)
	}
	pub, ok := k.(ed25519.PublicKey)
	if !ok {
		return nil, fmt.Errorf("loading public key %s: a %T, want an Ed25519 key", path, k)
	}
	return pub, nil
}

func readPEM(path, typ string) (*pem.Block, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("loading key: %w", err)
	}
	block, _ := pem.Decode(data)
	if block == nil || block.Type != typ {
		return nil, fmt.Errorf("loading key %s: want a PEM %q block", path, typ)
	}
	return block, nil
}

func writeNew(path string, data []byte, perm os.FileMode) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, perm)
	if err != nil {
		if errors.Is(err, os.ErrExist) {
			return fmt.Errorf("saving key: %s already exists", path)
		}
		return fmt.Errorf("saving key: %w", err)
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		os.Remove(path)
		return fmt.Errorf("saving key %s: %w", path, err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		os.Remove(path)
		return fmt.Errorf("saving key %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		os.Remove(path)
		return fmt.Errorf("saving key %s: %w", path, err)
	}
	return nil
}

// Fingerprint is the full BLAKE3-256 of the 32-byte public key in hex, grouped by 4 characters
// for reading aloud: what a user compares when a key id alone is not enough (a key id is its
// first 16 characters).
func Fingerprint(pub ed25519.PublicKey) string {
	sum := blake3.Sum256(pub)
	h := hex.EncodeToString(sum[:])
	var b []byte
	for i := 0; i < len(h); i += 4 {
		if i > 0 {
			b = append(b, ' ')
		}
		b = append(b, h[i:i+4]...)
	}
	return string(b)
}
