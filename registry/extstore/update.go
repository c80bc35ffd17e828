package extstore

import (
	"bytes"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"

	"github.com/Masterminds/semver/v3"

	"github.com/cairnfs/cairn/registry/cairnpkg"
	"github.com/cairnfs/cairn/schemas/manifest"
)

// KeyInfo names a publisher key for the user: its id and full fingerprint.
type KeyInfo struct {
	ID          string
	Fingerprint string // cairnpkg.Fingerprint; "" if the public key is unknown
}

// UpdateOptions are the explicit consents an update may need.
type UpdateOptions struct {
	// Replace accepts a package at the installed version (an extension rebuilt without a
	// version bump).
	Replace bool
	// AllowDowngrade accepts a package older than the installed version.
	AllowDowngrade bool
	// AcceptNewKey accepts a package signed by another key than the one bound to the id. The
	// id is then bound to the new key and the old grants are dropped: only the grants passed
	// with this update are given.
	AcceptNewKey bool
}

// Diff returns what updating to v would change (capabilities added, removed and changed, and
// the grants kept) without changing anything, so the CLI can show it before applying.
func (s *Store) Diff(v *cairnpkg.Verified) (*Change, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	st, err := s.load()
	if err != nil {
		return nil, err
	}
	return s.diff(st, v, nil, UpdateOptions{})
}

// DiffReplace is Diff for Replace: v may have the installed version.
func (s *Store) DiffReplace(v *cairnpkg.Verified) (*Change, error) {
	return s.DiffWith(v, UpdateOptions{Replace: true})
}

// DiffWith is Diff for UpdateWith.
func (s *Store) DiffWith(v *cairnpkg.Verified, opts UpdateOptions) (*Change, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	st, err := s.load()
	if err != nil {
		return nil, err
	}
	return s.diff(st, v, nil, opts)
}

// Replace is Update that also accepts v at the installed version, replacing the installed
// package (for an extension rebuilt without a version bump). Grants are kept as by Update.
func (s *Store) Replace(v *cairnpkg.Verified, newGrants []string) (*Change, error) {
	t := s.Begin()
	defer t.Abort()
	c, err := t.Replace(v, newGrants)
	if err != nil {
		return nil, err
	}
	return c, t.Commit()
}

// Update replaces the installed version of v's extension with v, a newer version (an older one
// is ErrDowngrade), after checking the publisher key (it must be the key bound to the id, the
// one that installed it first: ErrKeyChanged), v's dependencies, and that every installed dependent still accepts the new
// version (ErrHasDependents). Grants afterwards are the old grants of capabilities whose scope
// did not change, plus newGrants ∩ requested: an added or widened capability is granted only
// if the caller passes it (after showing the user the Change). To update several extensions
// that depend on each other, use a Txn.
func (s *Store) Update(v *cairnpkg.Verified, newGrants []string) (*Change, error) {
	t := s.Begin()
	defer t.Abort()
	c, err := t.Update(v, newGrants)
	if err != nil {
		return nil, err
	}
	return c, t.Commit()
}

func (s *Store) diff(st *state, v *cairnpkg.Verified, newGrants []string, opts UpdateOptions) (*Change, error) {
	m := v.Manifest
	r := st.Extensions[m.ID]
	if r == nil {
		return nil, fmt.Errorf("updating %s: %w", m.ID, ErrNotInstalled)
	}
	if sameVersion(r.Version, m.Version) && !opts.Replace {
		return nil, s.sameVersionError(v, r)
	}
	c := &Change{ID: m.ID, From: r.Version, To: m.Version, NewKey: KeyInfo{ID: v.KeyID, Fingerprint: cairnpkg.Fingerprint(v.Signature.PublicKey)}}
	if older(m.Version, r.Version) {
		if !opts.AllowDowngrade {
			return nil, fmt.Errorf("updating %s: %w from %s to %s (allow it explicitly to roll back)", m.ID, ErrDowngrade, r.Version, m.Version)
		}
		c.Downgrade = true
	}
	pinned, err := s.boundKey(m.ID, r)
	if err != nil {
		return nil, err
	}
	c.OldKey = KeyInfo{ID: r.KeyID}
	if pinned != nil {
		c.OldKey.Fingerprint = cairnpkg.Fingerprint(pinned)
	}
	if v.KeyID != r.KeyID || (pinned != nil && !bytes.Equal(pinned, v.Signature.PublicKey)) {
		if !opts.AcceptNewKey {
			return nil, fmt.Errorf("updating %s: %w: %s was installed with key %s (fingerprint %s); %s is signed by key %s (fingerprint %s)",
				m.ID, ErrKeyChanged, r.Version, r.KeyID, orUnknown(c.OldKey.Fingerprint), m.Version, v.KeyID, c.NewKey.Fingerprint)
		}
		c.KeyChanged = true
	}
	if err := checkGrantNames(newGrants); err != nil {
		return nil, fmt.Errorf("updating %s: %w", m.ID, err)
	}
	old, err := s.manifest(m.ID, r)
	if err != nil {
		return nil, err
	}
	c.Added, c.Removed, c.Changed = manifest.CapabilityDiff(old, m)
	var grants []string
	for _, g := range r.Grants {
		if _, ok := m.Capabilities[g]; ok && !slices.Contains(c.Changed, g) && !c.KeyChanged {
			grants = append(grants, g)
		}
	}
	c.Grants = intersect(m, append(grants, newGrants...))
	return c, nil
}

// boundKey returns the public key the installed version of id was signed with (from its
// signature.json), or nil if that file is missing (an install store written by hand).
func (s *Store) boundKey(id string, r *record) (ed25519.PublicKey, error) {
	data, err := os.ReadFile(filepath.Join(s.versionDir(id, r.Version), cairnpkg.SignatureMember))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading the signature of %s@%s: %w", id, r.Version, err)
	}
	var sig cairnpkg.Signature
	if err := json.Unmarshal(data, &sig); err != nil || len(sig.PublicKey) != ed25519.PublicKeySize || cairnpkg.KeyID(sig.PublicKey) != r.KeyID {
		return nil, fmt.Errorf("reading the signature of %s@%s: not the key %s that %s records (%v)", id, r.Version, r.KeyID, StateFile, err)
	}
	return sig.PublicKey, nil
}

func orUnknown(s string) string {
	if s == "" {
		return "unknown"
	}
	return s
}

// older reports whether version a is older than b (semver; unparsable versions are never older).
func older(a, b string) bool {
	va, err1 := semver.NewVersion(a)
	vb, err2 := semver.NewVersion(b)
	return err1 == nil && err2 == nil && va.LessThan(vb)
}
