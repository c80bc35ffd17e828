package cairnpkg

import (
	"bytes"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/cairnfs/cairn/internal/atomicfile"
)

// TrustStore answers which publisher keys the user trusts.
type TrustStore interface {
	// TrustedKey returns the key trusted under id (see KeyID), if any.
	TrustedKey(id string) (ed25519.PublicKey, bool)
}

// KeySet is an in-memory TrustStore: key id → public key. A nil KeySet trusts nothing.
type KeySet map[string]ed25519.PublicKey

// TrustedKey implements TrustStore.
func (s KeySet) TrustedKey(id string) (ed25519.PublicKey, bool) {
	k, ok := s[id]
	return k, ok
}

// Trust adds pub under its key id.
func (s KeySet) Trust(pub ed25519.PublicKey) { s[KeyID(pub)] = pub }

// KeyringFormat is the version of the keyring file.
const KeyringFormat = 1

// Keyring is the file-backed TrustStore (FORMAT.md "Keyring"): a JSON list of trusted publisher
// keys. Methods that change it work in memory; Save writes the file atomically. A Keyring is not
// safe for concurrent use.
type Keyring struct {
	Path string
	Keys []TrustedKey
}

// TrustedKey is one entry of a Keyring.
type TrustedKey struct {
	ID        string            `json:"id"`
	PublicKey ed25519.PublicKey `json:"public_key"`
	Comment   string            `json:"comment,omitempty"`
	Added     time.Time         `json:"added"`
}

type keyringFile struct {
	Format int          `json:"format"`
	Keys   []TrustedKey `json:"keys"`
}

// LoadKeyring reads the keyring at path; a missing file is an empty keyring.
func LoadKeyring(path string) (*Keyring, error) {
	k := &Keyring{Path: path}
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return k, nil
	}
	if err != nil {
		return nil, fmt.Errorf("loading keyring: %w", err)
	}
	var f keyringFile
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil {
		return nil, fmt.Errorf("loading keyring %s: %w", path, err)
	}
	if f.Format != KeyringFormat {
		return nil, fmt.Errorf("loading keyring %s: format %d is not supported (want %d)", path, f.Format, KeyringFormat)
	}
	for i, tk := range f.Keys {
		if len(tk.PublicKey) != ed25519.PublicKeySize || tk.ID != KeyID(tk.PublicKey) {
			return nil, fmt.Errorf("loading keyring %s: keys[%d] (%q): want a 32-byte key whose id matches", path, i, tk.ID)
		}
	}
	k.Keys = f.Keys
	return k, nil
}

// TrustedKey implements TrustStore. A nil Keyring trusts nothing.
func (k *Keyring) TrustedKey(id string) (ed25519.PublicKey, bool) {
	if k == nil {
		return nil, false
	}
	for _, tk := range k.Keys {
		if tk.ID == id {
			return tk.PublicKey, true
		}
	}
	return nil, false
}

// Add trusts pub; adding a key already present only updates a non-empty comment.
func (k *Keyring) Add(pub ed25519.PublicKey, comment string) error {
	if len(pub) != ed25519.PublicKeySize {
		return fmt.Errorf("trusting key: %d bytes, want %d", len(pub), ed25519.PublicKeySize)
	}
	id := KeyID(pub)
	for i, tk := range k.Keys {
		if tk.ID == id {
			if !bytes.Equal(tk.PublicKey, pub) {
				return fmt.Errorf("trusting key %s: %w: the keyring holds a different key under this id", id, ErrUntrustedKey)
			}
			if comment != "" {
				k.Keys[i].Comment = comment
			}
			return nil
		}
	}
	k.Keys = append(k.Keys, TrustedKey{ID: id, PublicKey: slices.Clone(pub), Comment: comment, Added: time.Now().UTC().Truncate(time.Second)})
	return nil
}

// Remove stops trusting the key with the given id and reports whether it was there.
func (k *Keyring) Remove(id string) bool {
	n := len(k.Keys)
	k.Keys = slices.DeleteFunc(k.Keys, func(tk TrustedKey) bool { return tk.ID == id })
	return len(k.Keys) != n
}

// Save writes the keyring to Path atomically (mode 0644), keys sorted by id.
func (k *Keyring) Save() error {
	keys := slices.Clone(k.Keys)
	if keys == nil {
		keys = []TrustedKey{}
	}
	slices.SortFunc(keys, func(a, b TrustedKey) int { return strings.Compare(a.ID, b.ID) })
	data, err := json.MarshalIndent(keyringFile{Format: KeyringFormat, Keys: keys}, "", "  ")
	if err != nil {
		return fmt.Errorf("saving keyring: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(k.Path), 0o700); err != nil {
		return fmt.Errorf("saving keyring: %w", err)
	}
	if err := atomicfile.Write(k.Path, append(data, '\n'), 0o644); err != nil {
		return fmt.Errorf("saving keyring: %w", err)
	}
	return nil
}

// Interface guards
var (
	_ TrustStore = KeySet(nil)
	_ TrustStore = (*Keyring)(nil)
)
