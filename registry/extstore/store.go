package extstore

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/Masterminds/semver/v3"
	"github.com/zeebo/blake3"

	"github.com/cairnfs/cairn/internal/atomicfile"
	"github.com/cairnfs/cairn/registry/cairnpkg"
	"github.com/cairnfs/cairn/schemas/manifest"
)

// StateFile records what is installed; StateFormat is its version.
const (
	StateFile   = "installed.json"
	StateFormat = 1
)

// Sentinel errors.
var (
	ErrNotInstalled      = errors.New("extension not installed")
	ErrAlreadyInstalled  = errors.New("extension already installed")
	ErrHasDependents     = errors.New("other installed extensions depend on it")
	ErrMissingDependency = errors.New("dependency not installed")
	ErrNotRequested      = errors.New("capability not requested by the extension")
	// ErrKeyChanged: the package is signed by another key than the one that first installed
	// the extension (the id is bound to that key: trust on first use per id). Whether the new
	// key is in the keyring does not matter; only UpdateOptions.AcceptNewKey accepts it.
	ErrKeyChanged = errors.New("publisher key changed")
	// ErrDowngrade: the package is older than the installed version (a registry that dropped
	// the newest release must not roll an extension back); UpdateOptions.AllowDowngrade
	// accepts it.
	ErrDowngrade = errors.New("refusing to downgrade")
	// ErrSameVersionDiffers: the package has the installed version but not the installed
	// package's module or manifest (an extension edited without bumping its version).
	ErrSameVersionDiffers = errors.New("a different package is installed at the same version")
)

// Store is the install store rooted at Dir. Methods are safe for concurrent use within one
// process; only one process may change a store at a time (the daemon, or the CLI when no
// daemon runs).
type Store struct {
	Dir string
	mu  sync.Mutex
}

// Installed is one installed extension.
type Installed struct {
	ID          string
	Version     string
	KeyID       string
	Grants      []string // granted capabilities (⊆ the manifest's requested ones), sorted
	InstalledAt time.Time
	Manifest    *manifest.Manifest
	// Path is the folder holding cairn.toml, the module and signature.json.
	Path string
}

// ModulePath is the module file of the installed extension.
func (i *Installed) ModulePath() string {
	return filepath.Join(i.Path, filepath.FromSlash(i.Manifest.Entry.File))
}

// Change describes an install or an update, for the user to confirm: the capability diff
// (manifest.CapabilityDiff; for an install, every requested capability is Added) and what
// will be granted afterwards.
type Change struct {
	ID      string
	From    string // "" for an install
	To      string
	Added   []string
	Removed []string
	Changed []string // requested before and after, with a different scope
	Grants  []string
	// Downgrade: To is older than From (accepted with UpdateOptions.AllowDowngrade).
	Downgrade bool
	// KeyChanged: the package is signed by another key than the installed version (accepted
	// with UpdateOptions.AcceptNewKey); the grants were reset, not carried over.
	KeyChanged bool
	OldKey     KeyInfo // the key bound to the id (for an update)
	NewKey     KeyInfo // the key that signed the package
}

type state struct {
	Format     int                `json:"format"`
	Extensions map[string]*record `json:"extensions"`
}

type record struct {
	Version     string    `json:"version"`
	KeyID       string    `json:"key_id"`
	Grants      []string  `json:"grants"`
	InstalledAt time.Time `json:"installed_at"`
}

func (s *Store) statePath() string { return filepath.Join(s.Dir, StateFile) }

func (s *Store) versionDir(id, version string) string {
	return filepath.Join(s.Dir, id, version)
}

func (s *Store) load() (*state, error) {
	st := &state{Format: StateFormat, Extensions: map[string]*record{}}
	data, err := os.ReadFile(s.statePath())
	if errors.Is(err, os.ErrNotExist) {
		return st, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", StateFile, err)
	}
	if err := json.Unmarshal(data, st); err != nil {
		return nil, fmt.Errorf("reading %s: %w", s.statePath(), err)
	}
	if st.Format != StateFormat {
		return nil, fmt.Errorf("reading %s: format %d is not supported (want %d)", s.statePath(), st.Format, StateFormat)
	}
	if st.Extensions == nil {
		st.Extensions = map[string]*record{}
	}
	return st, nil
}

func (s *Store) save(st *state) error {
	if err := os.MkdirAll(s.Dir, 0o755); err != nil {
		return err
	}
	data, err := json.MarshalIndent(st, "", "  ")
	if err != nil {
		return err
	}
	return atomicfile.Write(s.statePath(), append(data, '\n'), 0o644)
}

func (s *Store) manifest(id string, r *record) (*manifest.Manifest, error) {
	data, err := os.ReadFile(filepath.Join(s.versionDir(id, r.Version), manifest.FileName))
	if err != nil {
		return nil, fmt.Errorf("reading the manifest of %s@%s: %w", id, r.Version, err)
	}
	m, err := manifest.Parse(data)
	if err != nil {
		return nil, fmt.Errorf("reading the manifest of %s@%s: %w", id, r.Version, err)
	}
	return m, nil
}

func (s *Store) installed(id string, r *record) (*Installed, error) {
	m, err := s.manifest(id, r)
	if err != nil {
		return nil, err
	}
	return &Installed{ID: id, Version: r.Version, KeyID: r.KeyID, Grants: slices.Clone(r.Grants), InstalledAt: r.InstalledAt, Manifest: m, Path: s.versionDir(id, r.Version)}, nil
}

// List returns the installed extensions, sorted by id.
func (s *Store) List() ([]Installed, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	st, err := s.load()
	if err != nil {
		return nil, err
	}
	var out []Installed
	for _, id := range sortedIDs(st) {
		in, err := s.installed(id, st.Extensions[id])
		if err != nil {
			return nil, err
		}
		out = append(out, *in)
	}
	return out, nil
}

// Get returns one installed extension (ErrNotInstalled if absent).
func (s *Store) Get(id string) (*Installed, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	st, err := s.load()
	if err != nil {
		return nil, err
	}
	r := st.Extensions[id]
	if r == nil {
		return nil, fmt.Errorf("%w: %s", ErrNotInstalled, id)
	}
	return s.installed(id, r)
}

// Versions returns id → installed version, the form resolve.Resolve takes.
func (s *Store) Versions() (map[string]string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	st, err := s.load()
	if err != nil {
		return nil, err
	}
	out := map[string]string{}
	for id, r := range st.Extensions {
		out[id] = r.Version
	}
	return out, nil
}

// Install installs a verified package with the given grants (intersected with what it
// requests; names outside the capability vocabulary are an error). Its dependencies must be
// installed already (ErrMissingDependency); an installed extension is updated with Update, not
// reinstalled (ErrAlreadyInstalled). To install several packages that depend on each other,
// use a Txn.
func (s *Store) Install(v *cairnpkg.Verified, grants []string) (*Change, error) {
	t := s.Begin()
	defer t.Abort()
	c, err := t.Install(v, grants)
	if err != nil {
		return nil, err
	}
	return c, t.Commit()
}

// Remove uninstalls id. It refuses while another installed extension depends on it
// (ErrHasDependents, naming them) unless force is set.
func (s *Store) Remove(id string, force bool) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	st, err := s.load()
	if err != nil {
		return err
	}
	if st.Extensions[id] == nil {
		return fmt.Errorf("removing %s: %w", id, ErrNotInstalled)
	}
	if !force {
		deps, err := s.dependents(st, id)
		if err != nil {
			return err
		}
		if len(deps) > 0 {
			return fmt.Errorf("removing %s: %w: %s", id, ErrHasDependents, strings.Join(deps, ", "))
		}
	}
	delete(st.Extensions, id)
	if err := s.save(st); err != nil {
		return fmt.Errorf("removing %s: %w", id, err)
	}
	if err := os.RemoveAll(filepath.Join(s.Dir, id)); err != nil {
		return fmt.Errorf("removing %s: the store no longer lists it, but its files remain: %w", id, err)
	}
	return nil
}

// dependents lists "dev.x.y@1.0.0 (needs ^1)" for each installed extension depending on id.
func (s *Store) dependents(st *state, id string) ([]string, error) {
	var out []string
	for _, other := range sortedIDs(st) {
		if other == id {
			continue
		}
		m, err := s.manifest(other, st.Extensions[other])
		if err != nil {
			return nil, err
		}
		for _, d := range m.Dependencies {
			if d.ID == id {
				out = append(out, fmt.Sprintf("%s@%s (needs %s)", other, m.Version, d.Version))
			}
		}
	}
	return out, nil
}

// Grants returns the capabilities granted to id.
func (s *Store) Grants(id string) ([]string, error) {
	in, err := s.Get(id)
	if err != nil {
		return nil, err
	}
	return in.Grants, nil
}

// SetGrants replaces id's grants with caps ∩ requested. Names outside the capability
// vocabulary are an error; known capabilities the extension did not request are dropped.
func (s *Store) SetGrants(id string, caps []string) error {
	if err := checkGrantNames(caps); err != nil {
		return fmt.Errorf("granting %s: %w", id, err)
	}
	return s.editGrants(id, func(m *manifest.Manifest, _ []string) ([]string, error) {
		return intersect(m, caps), nil
	})
}

// Grant grants one capability; it must be one the manifest requested (ErrNotRequested).
func (s *Store) Grant(id, capability string) error {
	return s.editGrants(id, func(m *manifest.Manifest, have []string) ([]string, error) {
		if _, ok := m.Capabilities[capability]; !ok {
			return nil, fmt.Errorf("granting %s to %s: %w (it requests: %s)", capability, id, ErrNotRequested, strings.Join(requested(m), ", "))
		}
		return intersect(m, append(have, capability)), nil
	})
}

// Revoke withdraws one capability; it must be one the manifest requested (ErrNotRequested).
func (s *Store) Revoke(id, capability string) error {
	return s.editGrants(id, func(m *manifest.Manifest, have []string) ([]string, error) {
		if _, ok := m.Capabilities[capability]; !ok {
			return nil, fmt.Errorf("revoking %s from %s: %w (it requests: %s)", capability, id, ErrNotRequested, strings.Join(requested(m), ", "))
		}
		return slices.DeleteFunc(slices.Clone(have), func(g string) bool { return g == capability }), nil
	})
}

func (s *Store) editGrants(id string, f func(m *manifest.Manifest, have []string) ([]string, error)) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	st, err := s.load()
	if err != nil {
		return err
	}
	r := st.Extensions[id]
	if r == nil {
		return fmt.Errorf("%w: %s", ErrNotInstalled, id)
	}
	m, err := s.manifest(id, r)
	if err != nil {
		return err
	}
	g, err := f(m, r.Grants)
	if err != nil {
		return err
	}
	r.Grants = nonNil(g)
	return s.save(st)
}

// Clean removes what a crash can leave behind: staging folders and version folders that
// installed.json does not list. Do not call it while a Txn is open.
func (s *Store) Clean() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	st, err := s.load()
	if err != nil {
		return err
	}
	ents, err := os.ReadDir(s.Dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	for _, e := range ents {
		name := e.Name()
		switch {
		case strings.HasPrefix(name, stagePrefix):
			os.RemoveAll(filepath.Join(s.Dir, name))
		case e.IsDir() && !strings.HasPrefix(name, "."):
			r := st.Extensions[name]
			if r == nil {
				os.RemoveAll(filepath.Join(s.Dir, name))
				continue
			}
			vers, err := os.ReadDir(filepath.Join(s.Dir, name))
			if err != nil {
				return err
			}
			for _, v := range vers {
				if v.Name() != r.Version {
					os.RemoveAll(filepath.Join(s.Dir, name, v.Name()))
				}
			}
		}
	}
	return nil
}

// checkGrantNames refuses names outside the capability vocabulary (a typo must not pass
// silently as "not requested").
func checkGrantNames(caps []string) error {
	for _, c := range caps {
		if _, ok := manifest.Capabilities[c]; !ok {
			return fmt.Errorf("unknown capability %q", c)
		}
	}
	return nil
}

// intersect returns caps ∩ requested, sorted and deduplicated, never nil.
func intersect(m *manifest.Manifest, caps []string) []string {
	out := []string{}
	for _, c := range caps {
		if _, ok := m.Capabilities[c]; ok && !slices.Contains(out, c) {
			out = append(out, c)
		}
	}
	sort.Strings(out)
	return out
}

func requested(m *manifest.Manifest) []string {
	out := make([]string, 0, len(m.Capabilities))
	for c := range m.Capabilities {
		out = append(out, c)
	}
	sort.Strings(out)
	return out
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func sortedIDs(st *state) []string {
	ids := make([]string, 0, len(st.Extensions))
	for id := range st.Extensions {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	return ids
}

// sameVersionError says whether v is the installed package r (ErrAlreadyInstalled) or another
// one at its version (ErrSameVersionDiffers, naming what differs).
func (s *Store) sameVersionError(v *cairnpkg.Verified, r *record) error {
	m := v.Manifest
	old, err := os.ReadFile(filepath.Join(s.versionDir(m.ID, r.Version), manifest.FileName))
	if err != nil {
		return fmt.Errorf("reading the manifest of %s@%s: %w", m.ID, r.Version, err)
	}
	om, err := manifest.Parse(old)
	if err != nil {
		return fmt.Errorf("reading the manifest of %s@%s: %w", m.ID, r.Version, err)
	}
	switch {
	case om.Entry.BLAKE3 != m.Entry.BLAKE3:
		return fmt.Errorf("installing %s@%s: %w: the installed module has BLAKE3 %s, this package's %s", m.ID, m.Version,
			ErrSameVersionDiffers, short(om.Entry.BLAKE3), short(m.Entry.BLAKE3))
	case !bytes.Equal(old, v.ManifestBytes):
		return fmt.Errorf("installing %s@%s: %w: the module is the same, the manifest differs", m.ID, m.Version, ErrSameVersionDiffers)
	}
	return fmt.Errorf("installing %s@%s: %w at %s (the same package)", m.ID, m.Version, ErrAlreadyInstalled, r.Version)
}

func short(hash string) string {
	if len(hash) > 16 {
		return hash[:16] + "…"
	}
	return hash
}

func sameVersion(a, b string) bool {
	va, err1 := semver.NewVersion(a)
	vb, err2 := semver.NewVersion(b)
	if err1 != nil || err2 != nil {
		return a == b
	}
	return va.Equal(vb)
}

// copyModule writes the package's module to path, checking its BLAKE3 against the manifest
// again while copying (the package file could have changed since Verify).
func copyModule(v *cairnpkg.Verified, path string, perm os.FileMode) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, perm)
	if err != nil {
		return err
	}
	h := blake3.New()
	_, err = io.Copy(io.MultiWriter(f, h), v.Module())
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != v.Manifest.Entry.BLAKE3 {
		return fmt.Errorf("%w: module %s changed after verification (BLAKE3 %s, pinned %s)", cairnpkg.ErrHashMismatch, v.Manifest.Entry.File, got, v.Manifest.Entry.BLAKE3)
	}
	return nil
}

func writeFile(path string, data []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}
