package registry

import (
	"bytes"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/cairnfs/cairn/internal/atomicfile"
	"github.com/cairnfs/cairn/registry/cairnpkg"
)

// PinsFormat is the version of the pins file (FORMAT.md §9).
const PinsFormat = 1

// Sentinel errors of Pins.Check: each is a reason to refuse an index.
var (
	// ErrUnsignedIndex: the index is not signed, and the registry is remote (without
	// Policy.AllowUnsigned) or was signed before.
	ErrUnsignedIndex = errors.New("the registry index is not signed")
	// ErrRegistryKeyChanged: the index is signed by another key than the one pinned for the
	// registry on first use.
	ErrRegistryKeyChanged = errors.New("the registry's index key changed")
	// ErrIndexRollback: the index is older than one seen before from the same registry.
	ErrIndexRollback = errors.New("registry index rollback")
	// ErrIndexExpired: the index's expiry has passed (a frozen or stale registry).
	ErrIndexExpired = errors.New("registry index expired")
	// ErrIndexFork: the index has the version of one seen before but other content.
	ErrIndexFork = errors.New("registry index fork")
)

// Pins is what a client remembers about the registries it used (FORMAT.md §9): per registry,
// the index key it trusted on first use and the newest signed index it has seen. It is the
// client side of the trust model (see the package documentation). Not safe for concurrent use.
type Pins struct {
	Path       string
	Registries map[string]*Pin
}

// Pin is what is remembered of one registry.
type Pin struct {
	KeyID     string            `json:"key_id"`
	PublicKey ed25519.PublicKey `json:"public_key"`
	// Version, Digest and Expires are of the newest index seen.
	Version   int64     `json:"version"`
	Digest    string    `json:"digest"`
	Expires   time.Time `json:"expires"`
	FirstSeen time.Time `json:"first_seen"`
}

// Policy is what Check accepts beyond a fresh index signed by the pinned key.
type Policy struct {
	// Now is the time expiry is checked against (zero: time.Now()).
	Now time.Time
	// Local: the registry is a folder on this machine. An unsigned local registry is accepted
	// (for development) and reported in Verdict.Unsigned, for the caller to warn about.
	Local bool
	// AllowUnsigned accepts an unsigned remote registry (the user asked explicitly). Neither
	// option accepts an unsigned index from a registry that was signed before.
	AllowUnsigned bool
}

// Verdict is what Check decided, for the caller to tell the user.
type Verdict struct {
	// FirstUse: the registry was not known; its key is now pinned.
	FirstUse bool
	// Unsigned: the index is unsigned and was accepted by Policy (say so).
	Unsigned bool
	// Pin is the registry's pin after the check (nil for an unsigned index).
	Pin *Pin
}

type pinsFile struct {
	Format     int             `json:"format"`
	Registries map[string]*Pin `json:"registries"`
}

// LoadPins reads the pins file at path; a missing file holds no pins.
func LoadPins(path string) (*Pins, error) {
	p := &Pins{Path: path, Registries: map[string]*Pin{}}
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return p, nil
	}
	if err != nil {
		return nil, fmt.Errorf("loading registry pins: %w", err)
	}
	var f pinsFile
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil {
		return nil, fmt.Errorf("loading registry pins %s: %w", path, err)
	}
	if f.Format != PinsFormat {
		return nil, fmt.Errorf("loading registry pins %s: format %d is not supported (want %d)", path, f.Format, PinsFormat)
	}
	for src, pin := range f.Registries {
		if pin == nil || len(pin.PublicKey) != ed25519.PublicKeySize || pin.KeyID != cairnpkg.KeyID(pin.PublicKey) {
			return nil, fmt.Errorf("loading registry pins %s: %s: want a 32-byte key whose id matches", path, src)
		}
		p.Registries[src] = pin
	}
	return p, nil
}

// Save writes the pins atomically (mode 0644).
func (p *Pins) Save() error {
	regs := p.Registries
	if regs == nil {
		regs = map[string]*Pin{}
	}
	data, err := json.MarshalIndent(pinsFile{Format: PinsFormat, Registries: regs}, "", "  ")
	if err != nil {
		return fmt.Errorf("saving registry pins: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(p.Path), 0o755); err != nil {
		return fmt.Errorf("saving registry pins: %w", err)
	}
	return atomicfile.Write(p.Path, append(data, '\n'), 0o644)
}

// Pin pins pub as source's index key before first use (a key the user got from the registry
// out of band), so that even the first index must be signed by it. Pinning the key already
// pinned is a no-op; another key is ErrRegistryKeyChanged (Forget first).
func (p *Pins) Pin(source string, pub ed25519.PublicKey) error {
	if len(pub) != ed25519.PublicKeySize {
		return fmt.Errorf("pinning the index key of %s: %d bytes, want %d", source, len(pub), ed25519.PublicKeySize)
	}
	if p.Registries == nil {
		p.Registries = map[string]*Pin{}
	}
	if old := p.Registries[source]; old != nil {
		if bytes.Equal(old.PublicKey, pub) {
			return nil
		}
		return fmt.Errorf("pinning the index key of %s: %w: key %s is pinned already (forget it first)", source, ErrRegistryKeyChanged, old.KeyID)
	}
	p.Registries[source] = &Pin{KeyID: cairnpkg.KeyID(pub), PublicKey: slices.Clone(pub), FirstSeen: time.Now().UTC().Truncate(time.Second)}
	return nil
}

// Forget drops the pin of source and reports whether there was one: the next index from it is
// a first use again (after a registry rotated its key on purpose).
func (p *Pins) Forget(source string) bool {
	_, ok := p.Registries[source]
	delete(p.Registries, source)
	return ok
}

// Check applies the trust policy to idx, fetched from source (Client.Source), and on success
// records it in p (in memory: call Save). In order:
//
//  1. unsigned: refused if source was signed before or (remote) unless pol.AllowUnsigned;
//     accepted for a local folder, with Verdict.Unsigned (ErrUnsignedIndex);
//  2. expired: Expires is before pol.Now (ErrIndexExpired);
//  3. key: the pinned key must have signed it (ErrRegistryKeyChanged); with no pin, the key
//     is pinned now (trust on first use, Verdict.FirstUse);
//  4. version: lower than the highest seen is refused (ErrIndexRollback); equal is accepted
//     only with the same content (ErrIndexFork).
func (p *Pins) Check(source string, idx *Index, pol Policy) (*Verdict, error) {
	now := pol.Now
	if now.IsZero() {
		now = time.Now()
	}
	if p.Registries == nil {
		p.Registries = map[string]*Pin{}
	}
	pin := p.Registries[source]
	sig := idx.Signature
	if sig == nil {
		switch {
		case pin != nil:
			return nil, fmt.Errorf("checking the index of %s: %w: it was signed by key %s before (version %d); refusing an unsigned one (if the registry stopped signing on purpose: cairn registry forget %s)",
				source, ErrUnsignedIndex, pin.KeyID, pin.Version, source)
		case pol.Local || pol.AllowUnsigned:
			return &Verdict{Unsigned: true}, nil
		}
		return nil, fmt.Errorf("checking the index of %s: %w: nothing protects it from being rolled back or frozen; ask the registry to sign it (cairn registry sign), or pass --allow-unsigned-index", source, ErrUnsignedIndex)
	}
	if !now.Before(idx.Expires) {
		return nil, fmt.Errorf("checking the index of %s: %w at %s (now %s): the registry is stale, or someone is replaying an old index; the registry must re-sign it",
			source, ErrIndexExpired, idx.Expires.UTC().Format(time.RFC3339), now.UTC().Format(time.RFC3339))
	}
	v := &Verdict{}
	if pin == nil {
		pin = &Pin{KeyID: sig.KeyID, PublicKey: sig.PublicKey, FirstSeen: now.UTC().Truncate(time.Second)}
		v.FirstUse = true
	} else if !bytes.Equal(pin.PublicKey, sig.PublicKey) {
		return nil, fmt.Errorf("checking the index of %s: %w: pinned key %s (fingerprint %s), this index is signed by %s (fingerprint %s); if the registry rotated its key on purpose: cairn registry forget %s",
			source, ErrRegistryKeyChanged, pin.KeyID, cairnpkg.Fingerprint(pin.PublicKey), sig.KeyID, cairnpkg.Fingerprint(sig.PublicKey), source)
	} else if idx.Version < pin.Version {
		return nil, fmt.Errorf("checking the index of %s: %w: version %d is older than version %d seen before", source, ErrIndexRollback, idx.Version, pin.Version)
	} else if idx.Version == pin.Version && pin.Digest != "" && idx.Digest() != pin.Digest {
		return nil, fmt.Errorf("checking the index of %s: %w: version %d was seen before with other content", source, ErrIndexFork, idx.Version)
	}
	np := *pin
	np.Version, np.Digest, np.Expires = idx.Version, idx.Digest(), idx.Expires.UTC()
	p.Registries[source] = &np
	v.Pin = &np
	return v, nil
}
