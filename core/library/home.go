package library

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	"github.com/cairnfs/cairn/core/device"
	"github.com/cairnfs/cairn/core/store"
	"github.com/cairnfs/cairn/internal/atomicfile"
)

// Sentinel errors callers branch on.
var (
	ErrNotFound  = errors.New("library not found")
	ErrExists    = errors.New("library already exists")
	ErrLocked    = errors.New("library is in use")
	ErrBadName   = errors.New("invalid library name")
	ErrAmbiguous = errors.New("several libraries exist")
)

const (
	suffix  = ".cairn"
	dbFile  = "library.db"
	cfgFile = "config.toml"
)

var nameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)

// Home is a Cairn data directory.
type Home struct{ Dir string }

// DefaultHome is $CAIRN_HOME, else $XDG_DATA_HOME/cairn, else ~/.local/share/cairn.
func DefaultHome() string {
	if d := os.Getenv("CAIRN_HOME"); d != "" {
		return d
	}
	if d := os.Getenv("XDG_DATA_HOME"); d != "" {
		return filepath.Join(d, "cairn")
	}
	if h, err := os.UserHomeDir(); err == nil {
		return filepath.Join(h, ".local", "share", "cairn")
	}
	return filepath.Join(os.TempDir(), "cairn")
}

func (h Home) librariesDir() string { return filepath.Join(h.Dir, "libraries") }

// Path is the folder of the library called name.
func (h Home) Path(name string) string { return filepath.Join(h.librariesDir(), name+suffix) }

// Device loads (or on first run creates) this machine's identity.
func (h Home) Device() (*device.Identity, error) { return device.LoadOrCreate(h.Dir) }

// Info describes a library without opening it.
type Info struct {
	Name string `json:"name"`
	Path string `json:"path"`
	// Size is the database's bytes on disk: library.db and its write-ahead log.
	Size int64 `json:"db_bytes"`
	// SidecarBytes is the bytes of the files under sidecars/ (thumbnails, extracted text, …).
	SidecarBytes int64 `json:"sidecar_bytes"`
	// SidecarFiles is how many files sidecars/ holds.
	SidecarFiles int64 `json:"sidecar_files"`
}

// List returns the libraries of the home, by name.
func (h Home) List() ([]Info, error) {
	ents, err := os.ReadDir(h.librariesDir())
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("listing libraries: %w", err)
	}
	var out []Info
	for _, e := range ents {
		n := e.Name()
		if !e.IsDir() || !strings.HasSuffix(n, suffix) || strings.HasPrefix(n, ".") {
			continue
		}
		p := filepath.Join(h.librariesDir(), n)
		info := Info{Name: strings.TrimSuffix(n, suffix), Path: p}
		for _, f := range []string{dbFile, dbFile + "-wal"} {
			if st, err := os.Stat(filepath.Join(p, f)); err == nil {
				info.Size += st.Size()
			}
		}
		if info.SidecarBytes, info.SidecarFiles, err = treeSize(filepath.Join(p, "sidecars")); err != nil {
			return nil, fmt.Errorf("listing libraries: %s: %w", info.Name, err)
		}
		out = append(out, info)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// treeSize sums the sizes of the regular files under dir (0 when dir does not exist). It reads
// one directory at a time, so a folder of millions of sidecars costs time, not memory.
func treeSize(dir string) (bytes, files int64, err error) {
	err = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if p == dir && errors.Is(err, fs.ErrNotExist) {
				return fs.SkipAll
			}
			return fmt.Errorf("measuring %s: %w", p, err)
		}
		if !d.Type().IsRegular() {
			return nil
		}
		st, err := d.Info()
		if errors.Is(err, fs.ErrNotExist) { // removed while we walked
			return nil
		}
		if err != nil {
			return fmt.Errorf("measuring %s: %w", p, err)
		}
		bytes += st.Size()
		files++
		return nil
	})
	return bytes, files, err
}

// notFoundError is ErrNotFound for a named library, worded as what to do about it.
type notFoundError struct{ name, dir string }

func (e notFoundError) Error() string {
	return fmt.Sprintf("library %s does not exist in %s (cairn library list; cairn library create %s)", e.name, e.dir, e.name)
}

func (e notFoundError) Is(target error) bool { return target == ErrNotFound }

// notFound is the error for a library name that has no folder in the home.
func (h Home) notFound(name string) error { return notFoundError{name: name, dir: h.Dir} }

// Check reports whether the library called name exists: nil when it does, ErrBadName for a
// name no library can have, ErrNotFound (with what to do) when there is no such library.
func (h Home) Check(name string) error {
	if !nameRE.MatchString(name) {
		return fmt.Errorf("%w %q: no library can have this name (cairn library list)", ErrBadName, name)
	}
	st, err := os.Stat(h.Path(name))
	if errors.Is(err, fs.ErrNotExist) || (err == nil && !st.IsDir()) {
		return h.notFound(name)
	}
	if err != nil {
		return fmt.Errorf("looking for library %s: %w", name, err)
	}
	return nil
}

// Resolve picks the library a command means: the named one (which must exist: a misspelt name
// is an error, never a new library), else the only one. With create set and no library at all,
// it names "default" (which the caller then creates).
func (h Home) Resolve(name string, create bool) (string, error) {
	if name != "" {
		if err := h.Check(name); err != nil {
			return "", err
		}
		return name, nil
	}
	libs, err := h.List()
	if err != nil {
		return "", err
	}
	switch {
	case len(libs) == 1:
		return libs[0].Name, nil
	case len(libs) == 0 && create:
		return "default", nil
	case len(libs) == 0:
		return "", fmt.Errorf("%w: no library in %s yet (create one with `cairn library create NAME`, or run `cairn index PATH`)", ErrNotFound, h.Dir)
	}
	names := make([]string, len(libs))
	for i, l := range libs {
		names[i] = l.Name
	}
	return "", fmt.Errorf("%w (%s): choose one with --library NAME", ErrAmbiguous, strings.Join(names, ", "))
}

// Create makes a new library. It is built in a hidden temporary folder and renamed into place,
// so a crash never leaves a half-made library that List would show.
func (h Home) Create(ctx context.Context, name string) error {
	if !nameRE.MatchString(name) {
		return fmt.Errorf("%w %q: use letters, digits, '.', '_' or '-', at most 64, starting with a letter or digit", ErrBadName, name)
	}
	final := h.Path(name)
	if _, err := os.Stat(final); err == nil {
		return fmt.Errorf("%w: %s", ErrExists, name)
	}
	if err := os.MkdirAll(h.librariesDir(), 0o755); err != nil {
		return fmt.Errorf("creating %s: %w", h.librariesDir(), err)
	}
	tmp, err := os.MkdirTemp(h.librariesDir(), ".creating-"+name+"-")
	if err != nil {
		return fmt.Errorf("creating library %s: %w", name, err)
	}
	defer os.RemoveAll(tmp) // gone after a successful rename
	if err := os.Mkdir(filepath.Join(tmp, "sidecars"), 0o755); err != nil {
		return fmt.Errorf("creating library %s: %w", name, err)
	}
	cfg := fmt.Sprintf("# Cairn library %q\nname = %q\nschema = %d\n", name, name, store.SchemaVersion())
	if err := atomicfile.Write(filepath.Join(tmp, cfgFile), []byte(cfg), 0o644); err != nil {
		return err
	}
	st, err := store.Open(ctx, filepath.Join(tmp, dbFile), store.Options{})
	if err != nil {
		return fmt.Errorf("creating library %s: %w", name, err)
	}
	if err := st.Close(); err != nil {
		return fmt.Errorf("creating library %s: %w", name, err)
	}
	if err := os.Rename(tmp, final); err != nil {
		if _, serr := os.Stat(final); serr == nil {
			return fmt.Errorf("%w: %s", ErrExists, name)
		}
		return fmt.Errorf("creating library %s: %w", name, err)
	}
	return atomicfile.SyncDir(h.librariesDir())
}

// Delete removes a library. It takes the library's lock first (so it never deletes a library in
// use), renames the folder aside (atomic: the library is gone from List at once), then removes it.
func (h Home) Delete(name string) error {
	p := h.Path(name)
	if _, err := os.Stat(p); err != nil {
		return fmt.Errorf("%w: %s", ErrNotFound, name)
	}
	l, err := acquireLock(p)
	if err != nil {
		return err
	}
	aside := filepath.Join(h.librariesDir(), fmt.Sprintf(".deleting-%s-%d", name, os.Getpid()))
	if err := os.Rename(p, aside); err != nil {
		l.release()
		return fmt.Errorf("deleting library %s: %w", name, err)
	}
	l.release()
	if err := os.RemoveAll(aside); err != nil {
		return fmt.Errorf("deleting library %s (its folder is at %s): %w", name, aside, err)
	}
	return nil
}
