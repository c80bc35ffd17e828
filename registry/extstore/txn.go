package extstore

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/Masterminds/semver/v3"

	"github.com/cairnfs/cairn/internal/atomicfile"
	"github.com/cairnfs/cairn/registry/cairnpkg"
	"github.com/cairnfs/cairn/schemas/manifest"
)

const stagePrefix = ".stage-"

// Txn stages installs and updates and commits them together: each package is written to a
// staging folder when it is added, and Commit checks dependencies and dependents against the
// final set, moves the folders into place and replaces installed.json once. Apply a
// resolve.Plan's changes in one Txn so that an upgrade of a dependency and of its dependents
// is checked as a whole. Always call Abort (a no-op after Commit).
type Txn struct {
	s    *Store
	ops  []*op
	done bool
}

type op struct {
	v      *cairnpkg.Verified
	from   string // installed version for an update, "" for an install; the same version for a replace
	grants []string
	stage  string
}

// Begin starts a transaction. It first removes the staging folders of processes that are
// gone (killed or crashed during an install: kill -9 used to leak them forever).
func (s *Store) Begin() *Txn {
	s.removeDeadStages()
	return &Txn{s: s}
}

func (t *Txn) has(id string) bool {
	return slices.ContainsFunc(t.ops, func(o *op) bool { return o.v.Manifest.ID == id })
}

// Install stages the installation of v with grants ∩ requested (see Store.Install).
func (t *Txn) Install(v *cairnpkg.Verified, grants []string) (*Change, error) {
	m := v.Manifest
	if t.done {
		return nil, errors.New("extstore: transaction already finished")
	}
	if t.has(m.ID) {
		return nil, fmt.Errorf("installing %s: already in this transaction", m.ID)
	}
	if err := checkGrantNames(grants); err != nil {
		return nil, fmt.Errorf("installing %s: %w", m.ID, err)
	}
	t.s.mu.Lock()
	st, err := t.s.load()
	t.s.mu.Unlock()
	if err != nil {
		return nil, err
	}
	if r := st.Extensions[m.ID]; r != nil {
		return nil, fmt.Errorf("installing %s@%s: %w at %s (update it instead)", m.ID, m.Version, ErrAlreadyInstalled, r.Version)
	}
	o := &op{v: v, grants: intersect(m, grants)}
	if err := t.stage(o); err != nil {
		return nil, err
	}
	return &Change{ID: m.ID, To: m.Version, Added: requested(m), Grants: o.grants}, nil
}

// Update stages an update to v (see Store.Update).
func (t *Txn) Update(v *cairnpkg.Verified, newGrants []string) (*Change, error) {
	return t.UpdateWith(v, newGrants, UpdateOptions{})
}

// Replace stages an update to v that may have the installed version (see Store.Replace).
func (t *Txn) Replace(v *cairnpkg.Verified, newGrants []string) (*Change, error) {
	return t.UpdateWith(v, newGrants, UpdateOptions{Replace: true})
}

// UpdateWith stages an update to v with the consents in opts: a same-version replace, a
// downgrade, a new publisher key (which resets the grants to newGrants).
func (t *Txn) UpdateWith(v *cairnpkg.Verified, newGrants []string, opts UpdateOptions) (*Change, error) {
	m := v.Manifest
	if t.done {
		return nil, errors.New("extstore: transaction already finished")
	}
	if t.has(m.ID) {
		return nil, fmt.Errorf("updating %s: already in this transaction", m.ID)
	}
	t.s.mu.Lock()
	st, err := t.s.load()
	var c *Change
	if err == nil {
		c, err = t.s.diff(st, v, newGrants, opts)
	}
	t.s.mu.Unlock()
	if err != nil {
		return nil, err
	}
	o := &op{v: v, from: c.From, grants: c.Grants}
	if err := t.stage(o); err != nil {
		return nil, err
	}
	return c, nil
}

// stage writes the package's manifest, module and signature to a new staging folder.
func (t *Txn) stage(o *op) (err error) {
	m := o.v.Manifest
	if reservedID(m.ID) {
		return fmt.Errorf("staging %s@%s: %w", m.ID, m.Version, ErrReservedID)
	}
	if err := os.MkdirAll(t.s.Dir, 0o755); err != nil {
		return fmt.Errorf("staging %s@%s: %w", m.ID, m.Version, err)
	}
	dir, err := os.MkdirTemp(t.s.Dir, stageName(m.ID, m.Version))
	if err != nil {
		return fmt.Errorf("staging %s@%s: %w", m.ID, m.Version, err)
	}
	defer func() {
		if err != nil {
			os.RemoveAll(dir)
			err = fmt.Errorf("staging %s@%s: %w", m.ID, m.Version, err)
		}
	}()
	if err := os.Chmod(dir, 0o755); err != nil {
		return err
	}
	if err := writeFile(filepath.Join(dir, manifest.FileName), o.v.ManifestBytes); err != nil {
		return err
	}
	perm := os.FileMode(0o644)
	if m.Kind == manifest.KindProcess {
		perm = 0o755
	}
	if err := copyModule(o.v, filepath.Join(dir, filepath.FromSlash(m.Entry.File)), perm); err != nil {
		return err
	}
	sig, err := json.MarshalIndent(o.v.Signature, "", "  ")
	if err != nil {
		return err
	}
	if err := writeFile(filepath.Join(dir, cairnpkg.SignatureMember), append(sig, '\n')); err != nil {
		return err
	}
	if err := atomicfile.SyncDir(dir); err != nil {
		return err
	}
	o.stage = dir
	t.ops = append(t.ops, o)
	return nil
}

// Commit checks the final set and makes it the installed one. On error nothing changed.
func (t *Txn) Commit() error {
	if t.done {
		return errors.New("extstore: transaction already finished")
	}
	if len(t.ops) == 0 {
		t.done = true
		return nil
	}
	s := t.s
	s.mu.Lock()
	defer s.mu.Unlock()
	st, err := s.load()
	if err != nil {
		return err
	}

	// The final set, checked against installed.json as it is now.
	now := time.Now().UTC().Truncate(time.Second)
	final := map[string]*manifest.Manifest{}
	for _, o := range t.ops {
		m := o.v.Manifest
		r := st.Extensions[m.ID]
		switch {
		case o.from == "" && r != nil:
			return fmt.Errorf("installing %s: %w at %s", m.ID, ErrAlreadyInstalled, r.Version)
		case o.from != "" && (r == nil || r.Version != o.from):
			return fmt.Errorf("updating %s: it changed while the update was staged", m.ID)
		}
		final[m.ID] = m
	}
	lookup := func(id string) (*manifest.Manifest, error) {
		if m, ok := final[id]; ok {
			return m, nil
		}
		r := st.Extensions[id]
		if r == nil {
			return nil, nil
		}
		m, err := s.manifest(id, r)
		if err == nil {
			final[id] = m
		}
		return m, err
	}
	var problems []error
	for _, o := range t.ops {
		m := o.v.Manifest
		for _, d := range m.Dependencies {
			dm, err := lookup(d.ID)
			if err != nil {
				return err
			}
			if dm == nil || !satisfies(d, dm) {
				have := "not installed"
				if dm != nil {
					have = "installed: " + dm.Version
				}
				problems = append(problems, fmt.Errorf("%w: %s@%s needs %s %s (%s)", ErrMissingDependency, m.ID, m.Version, d.ID, rangeText(d), have))
			}
		}
	}
	for _, id := range sortedIDs(st) {
		if t.has(id) {
			continue // checked above
		}
		m, err := lookup(id)
		if err != nil {
			return err
		}
		for _, d := range m.Dependencies {
			if !t.has(d.ID) {
				continue
			}
			if nm := final[d.ID]; !satisfies(d, nm) {
				problems = append(problems, fmt.Errorf("%w: %s@%s needs %s %s, which %s@%s does not satisfy", ErrHasDependents, id, m.Version, d.ID, rangeText(d), d.ID, nm.Version))
			}
		}
	}
	if len(problems) > 0 {
		return fmt.Errorf("committing extension changes: %w", errors.Join(problems...))
	}

	// Move the staged folders into place; undo on failure. A replaced version's folder is moved
	// aside first, and back on failure.
	var moved []string
	aside := map[string]string{} // target → where the replaced folder waits
	undo := func() {
		for _, p := range moved {
			os.RemoveAll(p)
		}
		for target, p := range aside {
			os.Rename(p, target)
		}
	}
	for _, o := range t.ops {
		m := o.v.Manifest
		target := s.versionDir(m.ID, m.Version)
		if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
			undo()
			return err
		}
		if o.from == m.Version {
			p := o.stage + replacedSuffix
			if err := os.Rename(target, p); err != nil {
				undo()
				return fmt.Errorf("replacing %s@%s: %w", m.ID, m.Version, err)
			}
			aside[target] = p
		} else {
			os.RemoveAll(target) // a leftover of a crash: installed.json does not list this version
		}
		if err := os.Rename(o.stage, target); err != nil {
			undo()
			return fmt.Errorf("installing %s@%s: %w", m.ID, m.Version, err)
		}
		moved = append(moved, target)
		if err := atomicfile.SyncDir(filepath.Dir(target)); err != nil {
			undo()
			return err
		}
	}

	// The commit point.
	var old []string
	for _, o := range t.ops {
		m := o.v.Manifest
		if o.from != "" && o.from != m.Version {
			old = append(old, s.versionDir(m.ID, o.from))
		}
		st.Extensions[m.ID] = &record{Version: m.Version, KeyID: o.v.KeyID, Grants: nonNil(o.grants), InstalledAt: now}
	}
	if err := s.save(st); err != nil {
		undo()
		return fmt.Errorf("committing extension changes: %w", err)
	}
	t.done = true
	for _, p := range aside {
		old = append(old, p)
	}
	for _, p := range old {
		os.RemoveAll(p) // best effort: Clean removes what is left
	}
	return nil
}

// Abort discards the staged packages. It is a no-op after Commit.
func (t *Txn) Abort() {
	if t.done {
		return
	}
	t.done = true
	for _, o := range t.ops {
		os.RemoveAll(o.stage)
	}
}

func satisfies(d manifest.Dependency, m *manifest.Manifest) bool {
	c, err := semver.NewConstraint(d.Version)
	if err != nil {
		return false
	}
	v, err := semver.NewVersion(m.Version)
	if err != nil {
		return false
	}
	return c.Check(v) && (d.Contract == "" || slices.Contains(m.Exports, d.Contract))
}

func rangeText(d manifest.Dependency) string {
	if d.Contract != "" {
		return strings.TrimSpace(d.Version + " exporting " + d.Contract)
	}
	return d.Version
}
