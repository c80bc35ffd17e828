package registry

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/Masterminds/semver/v3"

	"github.com/cairnfs/cairn/schemas/manifest"
)

// IndexFormat is the version of index.json this package writes and the only one it reads.
const IndexFormat = 1

// IndexFile is the index's name at the root of a registry.
const IndexFile = "index.json"

// MaxIndexSize bounds an index a Client will read.
const MaxIndexSize = 32 << 20

// Sentinel errors.
var (
	// ErrInvalidIndex: index.json is malformed or of an unsupported format.
	ErrInvalidIndex = errors.New("invalid registry index")
	// ErrNotFound: the extension or version is not in the index.
	ErrNotFound = errors.New("not in the registry")
	// ErrIndexMismatch: a fetched package file differs from what the index says (size, BLAKE3,
	// or the extension id and version inside it).
	ErrIndexMismatch = errors.New("package does not match the registry index")
)

// Index is a registry's index.json.
type Index struct {
	Format int `json:"format"`
	// Version counts the registry's indexes: each one published has a higher version than the
	// last. Required (≥ 1) in a signed index, where clients refuse a version lower than one
	// they have seen (rollback).
	Version int64 `json:"version,omitempty"`
	// Expires is when the index stops being valid. Required in a signed index, which clients
	// refuse after it (freeze: an attacker replaying an old index forever).
	Expires    time.Time             `json:"expires,omitzero"`
	Extensions map[string]*Extension `json:"extensions"`
	// Signature is the registry key's signature (SignIndex); nil for an unsigned index.
	Signature *IndexSignature `json:"signature,omitempty"`

	digest string // BLAKE3 of the canonical form (what a signature covers)
}

// Digest is the hex BLAKE3-256 of the index's canonical form (what a signature covers): two
// indexes with the same Version and different digests are a fork.
func (idx *Index) Digest() string { return idx.digest }

// Extension lists the published versions of one extension, newest first.
type Extension struct {
	Versions []Release `json:"versions"`
}

// Release is one published version: enough to resolve dependencies and show capabilities
// without downloading, plus where the package is and what it must hash to.
type Release struct {
	Version     string `json:"version"`
	Name        string `json:"name"`
	Description string `json:"description,omitempty"`
	ABI         string `json:"abi"`
	Kernel      string `json:"kernel,omitempty"`
	Kind        string `json:"kind"`
	// URL of the package file, relative to the index: slash-separated, no "." or ".."
	// elements, no scheme or leading slash.
	URL string `json:"url"`
	// BLAKE3 is the hex BLAKE3-256 of the whole package file.
	BLAKE3 string `json:"blake3"`
	Size   int64  `json:"size"`
	// KeyID is the publisher key that signed it.
	KeyID        string                    `json:"key_id"`
	Dependencies []manifest.Dependency     `json:"dependencies,omitempty"`
	Capabilities map[string]manifest.Scope `json:"capabilities,omitempty"`
	Exports      []string                  `json:"exports,omitempty"`
}

// SemVer returns the parsed version (valid in any Index that passed Validate).
func (r *Release) SemVer() *semver.Version {
	v, _ := semver.NewVersion(r.Version)
	return v
}

var (
	idRE  = regexp.MustCompile(`^[a-z][a-z0-9-]*(\.[a-z0-9][a-z0-9-]*)+$`)
	hexRE = regexp.MustCompile(`^[0-9a-f]{64}$`)
	keyRE = regexp.MustCompile(`^[0-9a-f]{16}$`)
)

// ParseIndex decodes and validates an index, and sorts each extension's versions newest first.
// Unknown fields are ignored (later minor revisions of format 1 may add some).
//
// An index with a "signature" member must verify (ErrBadIndexSignature), and is decoded from
// the bytes the signature covers. ParseIndex does not decide whether the key is the registry's
// or whether the index is fresh: that is Pins.Check.
func ParseIndex(data []byte) (*Index, error) {
	body, sig, err := verifyIndex(data)
	if err != nil {
		return nil, err
	}
	var idx Index
	if err := json.Unmarshal(body, &idx); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalidIndex, err)
	}
	idx.Signature = sig
	if sig == nil {
		c, err := canonicalIndex(data)
		if err != nil {
			return nil, fmt.Errorf("%w: %v", ErrInvalidIndex, err)
		}
		body = c
	}
	idx.digest = digest(body)
	if err := idx.Validate(); err != nil {
		return nil, err
	}
	return &idx, nil
}

// Validate checks every field, reports all problems at once, and sorts versions newest first.
func (idx *Index) Validate() error {
	if idx.Format != IndexFormat {
		return fmt.Errorf("%w: format %d is not supported (this cairn reads format %d)", ErrInvalidIndex, idx.Format, IndexFormat)
	}
	var errs []string
	bad := func(format string, args ...any) { errs = append(errs, fmt.Sprintf(format, args...)) }
	if idx.Version < 0 {
		bad("version %d: want ≥ 1", idx.Version)
	}
	if idx.Signature != nil {
		if idx.Version < 1 {
			bad("a signed index needs a version ≥ 1")
		}
		if idx.Expires.IsZero() {
			bad("a signed index needs an expiry (expires)")
		}
	}
	for _, id := range idx.IDs() {
		ext := idx.Extensions[id]
		if !idRE.MatchString(id) {
			bad("extension %q: want a reverse-DNS id", id)
		}
		if ext == nil {
			bad("extension %q: null", id)
			continue
		}
		seen := map[string]bool{}
		for i, r := range ext.Versions {
			where := fmt.Sprintf("%s versions[%d]", id, i)
			v, err := semver.StrictNewVersion(r.Version)
			if err != nil {
				bad("%s: version %q: want semver MAJOR.MINOR.PATCH", where, r.Version)
			} else if seen[v.String()] {
				bad("%s: version %s listed twice", where, v)
			} else {
				seen[v.String()] = true
			}
			if _, err := semver.NewConstraint(r.ABI); err != nil || r.ABI == "" {
				bad("%s: abi %q: want a version range", where, r.ABI)
			}
			if r.Kernel != "" {
				if _, err := semver.NewConstraint(r.Kernel); err != nil {
					bad("%s: kernel %q: want a version range", where, r.Kernel)
				}
			}
			if err := checkURL(r.URL); err != nil {
				bad("%s: %v", where, err)
			}
			if !hexRE.MatchString(r.BLAKE3) {
				bad("%s: blake3: want 64 lowercase hex characters", where)
			}
			if r.Size <= 0 {
				bad("%s: size %d: want > 0", where, r.Size)
			}
			if !keyRE.MatchString(r.KeyID) {
				bad("%s: key_id %q: want 16 lowercase hex characters", where, r.KeyID)
			}
			for j, d := range r.Dependencies {
				if !idRE.MatchString(d.ID) || d.ID == id {
					bad("%s: dependencies[%d]: id %q", where, j, d.ID)
				}
				if _, err := semver.NewConstraint(d.Version); err != nil || d.Version == "" {
					bad("%s: dependencies[%d]: version %q: want a range", where, j, d.Version)
				}
			}
		}
		sortReleases(ext.Versions)
	}
	if len(errs) > 0 {
		return fmt.Errorf("%w: %s", ErrInvalidIndex, strings.Join(errs, "; "))
	}
	return nil
}

// checkURL accepts URLs relative to the index that stay inside the registry.
func checkURL(u string) error {
	if !fs.ValidPath(u) || u == "." || strings.ContainsAny(u, "\\:?#%") {
		return fmt.Errorf("url %q: want a relative path inside the registry", u)
	}
	return nil
}

func sortReleases(rs []Release) {
	sort.SliceStable(rs, func(i, j int) bool {
		a, b := rs[i].SemVer(), rs[j].SemVer()
		if a == nil || b == nil {
			return rs[i].Version > rs[j].Version
		}
		return a.GreaterThan(b)
	})
}

// IDs returns the extension ids, sorted.
func (idx *Index) IDs() []string {
	ids := make([]string, 0, len(idx.Extensions))
	for id := range idx.Extensions {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	return ids
}

// Releases returns an extension's versions, newest first (nil if unknown).
func (idx *Index) Releases(id string) []Release {
	if e := idx.Extensions[id]; e != nil {
		return e.Versions
	}
	return nil
}

// Lookup returns the release id@version (versions compare as semver: "1.0" finds "1.0.0").
func (idx *Index) Lookup(id, version string) (*Release, error) {
	want, err := semver.NewVersion(version)
	if err != nil {
		return nil, fmt.Errorf("looking up %s@%s: %w", id, version, err)
	}
	rs := idx.Releases(id)
	for i := range rs {
		if v := rs[i].SemVer(); v != nil && v.Equal(want) {
			return &rs[i], nil
		}
	}
	if rs == nil {
		return nil, fmt.Errorf("%w: no extension %s", ErrNotFound, id)
	}
	return nil, fmt.Errorf("%w: %s has no version %s", ErrNotFound, id, version)
}

// Encode returns the index as indented JSON with a trailing newline; map keys are sorted, so
// the same index always encodes to the same bytes.
func (idx *Index) Encode() ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(idx); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}
