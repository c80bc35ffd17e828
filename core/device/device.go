// Package device holds this machine's persistent device identity: a UUID, a name, a slug for
// addresses (local://<slug>/...), the OS, and an Ed25519 key pair that will authenticate the
// device to its peers. It is created on first run in the data directory and never changes.
package device

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"

	"github.com/google/uuid"

	"github.com/cairnfs/cairn/internal/atomicfile"
)

// FileName is the identity file inside the data directory.
const FileName = "device.json"

// Identity is a device's identity. PrivateKey never leaves the data directory.
type Identity struct {
	ID         string             `json:"id"`
	Name       string             `json:"name"`
	Slug       string             `json:"slug"`
	OS         string             `json:"os"`
	PublicKey  ed25519.PublicKey  `json:"public_key"`
	PrivateKey ed25519.PrivateKey `json:"private_key"`
}

// LoadOrCreate reads the identity in dataDir, creating it (mode 0600) on first run.
func LoadOrCreate(dataDir string) (*Identity, error) {
	p := filepath.Join(dataDir, FileName)
	b, err := os.ReadFile(p)
	if err == nil {
		var id Identity
		if err := json.Unmarshal(b, &id); err != nil {
			return nil, fmt.Errorf("reading device identity %s: %w (move it aside to create a new identity)", p, err)
		}
		if id.ID == "" || len(id.PrivateKey) != ed25519.PrivateKeySize || len(id.PublicKey) != ed25519.PublicKeySize {
			return nil, fmt.Errorf("reading device identity %s: incomplete identity (move it aside to create a new one)", p)
		}
		return &id, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("reading device identity: %w", err)
	}
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("generating device key: %w", err)
	}
	host, _ := os.Hostname()
	if host == "" {
		host = "device"
	}
	id := &Identity{ID: uuid.NewString(), Name: host, Slug: Slug(host), OS: runtime.GOOS, PublicKey: pub, PrivateKey: priv}
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return nil, fmt.Errorf("creating data directory %s: %w", dataDir, err)
	}
	b, _ = json.MarshalIndent(id, "", "  ")
	if err := atomicfile.Write(p, b, 0o600); err != nil {
		return nil, fmt.Errorf("saving device identity: %w", err)
	}
	return id, nil
}

// Slug turns a name into a lowercase address-safe slug ("Ann's MacBook" → "ann-s-macbook").
func Slug(name string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(name) {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			b.WriteRune(r)
			dash = false
		} else if !dash && b.Len() > 0 {
			b.WriteByte('-')
			dash = true
		}
	}
	s := strings.TrimSuffix(b.String(), "-")
	if s == "" {
		return "device"
	}
	return s
}
