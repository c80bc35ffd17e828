package datafs

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/cairnfs/cairn/host/capability"
)

// MountPoint is where a WASM extension sees the FS.
const MountPoint = "/data"

// Location is a location the FS may expose: its UUID and its absolute root on this device.
type Location struct {
	UUID string
	Path string
}

// FS is the filtered, read-only view of the granted files. It implements fs.FS (names relative
// to MountPoint: "<uuid>/<rel>") and is safe for concurrent use.
type FS struct {
	scope *capability.FileScope
	table atomic.Pointer[table]
}

type table struct {
	byUUID map[string]*root
	byPath []*root // longest path first, for GuestPath
	names  []string
}

type root struct {
	loc  Location
	mu   sync.Mutex
	root *os.Root
	dir  *os.File // the root directory, for openat2
}

// New returns the view of scope (nil allows nothing) over locs.
func New(scope *capability.FileScope, locs []Location) *FS {
	f := &FS{scope: scope}
	f.SetLocations(locs)
	return f
}

// SetLocations replaces the known locations (call it when locations are added, removed or move).
// Locations outside the scope are dropped. Files already open stay usable.
func (f *FS) SetLocations(locs []Location) {
	t := &table{byUUID: map[string]*root{}}
	for _, l := range locs {
		if !f.scope.AllowsLocation(l.UUID) || l.UUID == "" || !filepath.IsAbs(l.Path) {
			continue
		}
		r := &root{loc: Location{UUID: l.UUID, Path: filepath.Clean(l.Path)}}
		t.byUUID[l.UUID] = r
		t.byPath = append(t.byPath, r)
		t.names = append(t.names, l.UUID)
	}
	sort.Slice(t.byPath, func(i, j int) bool { return len(t.byPath[i].loc.Path) > len(t.byPath[j].loc.Path) })
	sort.Strings(t.names)
	if old := f.table.Swap(t); old != nil {
		for _, r := range old.byPath {
			r.close()
		}
	}
}

// Close releases the open location roots.
func (f *FS) Close() error {
	if old := f.table.Swap(&table{byUUID: map[string]*root{}}); old != nil {
		for _, r := range old.byPath {
			r.close()
		}
	}
	return nil
}

func (r *root) open() (*os.Root, *os.File, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.root != nil {
		return r.root, r.dir, nil
	}
	rt, err := os.OpenRoot(r.loc.Path)
	if err != nil {
		return nil, nil, err // not cached: an unplugged drive may come back
	}
	dir, err := os.Open(r.loc.Path)
	if err != nil {
		rt.Close()
		return nil, nil, err
	}
	r.root, r.dir = rt, dir
	return rt, dir, nil
}

func (r *root) close() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.root != nil {
		r.root.Close()
		r.dir.Close()
		r.root, r.dir = nil, nil
	}
}

// Roots returns the host paths of the locations the FS exposes (a location's root, whatever
// narrower globs the scope adds): what a native extension's sandbox lets it read.
func (f *FS) Roots() []string {
	var out []string
	for _, r := range f.table.Load().byPath {
		out = append(out, r.loc.Path)
	}
	sort.Strings(out)
	return out
}

// GuestPath returns the path under MountPoint of the absolute host path abs, and whether that
// file is visible (in a known location and in scope).
func (f *FS) GuestPath(abs string) (string, bool) {
	loc, rel, ok := f.locate(abs)
	if !ok || !f.scope.Allows(loc, rel) {
		return "", false
	}
	return Path(loc, rel), true
}

func (f *FS) locate(abs string) (loc, rel string, ok bool) {
	abs = filepath.Clean(abs)
	for _, r := range f.table.Load().byPath {
		root := r.loc.Path
		switch {
		case abs == root:
			return r.loc.UUID, "", true
		case root == "/" && len(abs) > 1:
			return r.loc.UUID, filepath.ToSlash(abs[1:]), true
		case strings.HasPrefix(abs, root+string(filepath.Separator)):
			return r.loc.UUID, filepath.ToSlash(abs[len(root)+1:]), true
		}
	}
	return "", "", false
}

// HostPath returns the absolute host path of a guest path ("/data/<uuid>/<rel>"), and whether it
// names a visible file.
func (f *FS) HostPath(guest string) (string, bool) {
	loc, rel, ok := ParsePath(guest)
	if !ok || !f.scope.Allows(loc, rel) {
		return "", false
	}
	r, ok := f.table.Load().byUUID[loc]
	if !ok {
		return "", false
	}
	return filepath.Join(r.loc.Path, filepath.FromSlash(rel)), true
}

// Path returns the guest path of rel in the location loc. A rel that is not valid UTF-8 (a file
// name in Latin-1, say) cannot travel in JSON, so it gets its alias path under RawDir instead,
// which the FS resolves back to the same file (see the package doc).
func Path(loc, rel string) string {
	if rel == "" {
		return MountPoint + "/" + loc
	}
	if !utf8.ValidString(rel) {
		return MountPoint + "/" + RawDir + "/" + loc + "/" + escapeRaw(rel)
	}
	return MountPoint + "/" + loc + "/" + rel
}

// ParsePath splits a guest path into location UUID and location-relative path. An alias path
// (under RawDir) gives the real, unescaped rel.
func ParsePath(guest string) (loc, rel string, ok bool) {
	rest, ok := strings.CutPrefix(guest, MountPoint+"/")
	if !ok || !fs.ValidPath(rest) {
		return "", "", false
	}
	loc, rel, raw, err := splitName(rest)
	if err != nil || raw && rel == "" {
		return "", "", false
	}
	return loc, rel, loc != "" && loc != "." && loc != RawDir
}

// RawDir is the folder of /data whose tree repeats every location with its paths escaped: each
// '%' and each byte that is not part of valid UTF-8 is written %XX (two upper-case hex digits), so
// "/data/.raw/<uuid>/caf%E9.txt" is the file named "caf\xe9.txt" in Latin-1. Location UUIDs never
// start with a dot, so the name cannot be taken by a location.
const RawDir = ".raw"

// escapeRaw writes rel with '%' and the bytes of invalid UTF-8 as %XX.
func escapeRaw(rel string) string {
	var b strings.Builder
	for i := 0; i < len(rel); {
		r, n := utf8.DecodeRuneInString(rel[i:])
		if r == '%' || r == utf8.RuneError && n == 1 {
			fmt.Fprintf(&b, "%%%02X", rel[i])
		} else {
			b.WriteString(rel[i : i+n])
		}
		i += n
	}
	return b.String()
}

// unescapeRaw reverses escapeRaw; a '%' not followed by two hex digits is an error.
func unescapeRaw(s string) (string, error) {
	if !strings.Contains(s, "%") {
		return s, nil
	}
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		if s[i] != '%' {
			b = append(b, s[i])
			continue
		}
		if i+2 >= len(s) {
			return "", fs.ErrInvalid
		}
		v, err := strconv.ParseUint(s[i+1:i+3], 16, 8)
		if err != nil {
			return "", fs.ErrInvalid
		}
		b = append(b, byte(v))
		i += 2
	}
	return string(b), nil
}

// validElems is fs.ValidPath without its UTF-8 check: no empty, "." or ".." element.
func validElems(rel string) bool {
	for _, e := range strings.Split(rel, "/") {
		if e == "" || e == "." || e == ".." {
			return false
		}
	}
	return true
}

// splitName splits an fs.FS name ("<uuid>/<rel>" or RawDir+"/<uuid>/<escaped rel>") into the
// location and the real rel; raw says the name was an alias.
func splitName(name string) (loc, rel string, raw bool, err error) {
	if rest, ok := strings.CutPrefix(name, RawDir+"/"); ok {
		loc, esc, _ := strings.Cut(rest, "/")
		rel, err := unescapeRaw(esc)
		if err != nil || strings.Contains(rel, "\x00") || rel != "" && !validElems(rel) {
			return "", "", true, fs.ErrInvalid // an escaped "..", "/" or NUL is no way out
		}
		return loc, rel, true, nil
	}
	loc, rel, _ = strings.Cut(name, "/")
	return loc, rel, false, nil
}

// OpenFile opens the file rel of location loc for reading, with the same checks as Open. rel
// is the real name, valid UTF-8 or not.
func (f *FS) OpenFile(loc, rel string) (fs.File, error) {
	name := loc + "/" + rel
	if rel == "" || strings.Contains(rel, "\x00") || !validElems(rel) {
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrInvalid}
	}
	return f.open(name, loc, rel)
}

// Open implements fs.FS. name is "." (the list of locations), "<uuid>" or "<uuid>/<rel>".
func (f *FS) Open(name string) (fs.File, error) {
	if !fs.ValidPath(name) {
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrInvalid}
	}
	t := f.table.Load()
	if name == "." {
		return &rootDir{names: t.names}, nil
	}
	if name == RawDir { // the alias tree lists nothing: its paths are handed out, not browsed
		return &rootDir{}, nil
	}
	loc, rel, _, err := splitName(name)
	if err != nil {
		return nil, &fs.PathError{Op: "open", Path: name, Err: err}
	}
	return f.open(name, loc, rel)
}

func (f *FS) open(name, loc, rel string) (fs.File, error) {
	r, ok := f.table.Load().byUUID[loc]
	if !ok {
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
	}
	// Decide from the name alone first: a refusal must not depend on what is on disk.
	isFile, isDir := rel != "" && f.scope.Allows(loc, rel), f.scope.MayContain(loc, rel)
	if !isFile && !isDir {
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrPermission}
	}
	rt, rootFile, err := r.open()
	if err != nil {
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
	}
	file, fi, err := openChecked(rt, rootFile, rel)
	if err != nil {
		if !isFile && errors.Is(err, fs.ErrNotExist) { // a name that is not a granted file learns nothing about existence
			err = fs.ErrPermission
		}
		return nil, &fs.PathError{Op: "open", Path: name, Err: err}
	}
	switch {
	case fi.Mode().IsRegular() && isFile:
	case fi.IsDir() && isDir:
	default:
		file.Close()
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrPermission}
	}
	if fi.IsDir() {
		return &dir{f: f, file: file, loc: loc, rel: rel}, nil
	}
	return &roFile{file: file}, nil
}

// openChecked opens rel (for reading, without following any symlink in any component) and
// stats it: with openat2 on Linux, else with an Lstat of every component, os.Root's open, and a
// check that the opened file is the one that was checked (os.SameFile).
func openChecked(rt *os.Root, dir *os.File, rel string) (*os.File, fs.FileInfo, error) {
	if f, ok, err := openBeneath(dir, rel); ok {
		if err != nil {
			return nil, nil, err
		}
		fi, err := f.Stat()
		if err != nil {
			f.Close()
			return nil, nil, err
		}
		return f, fi, nil
	}
	fi, err := lstatPath(rt, rel)
	if err != nil {
		return nil, nil, err
	}
	if !fi.Mode().IsRegular() && !fi.IsDir() { // never open a FIFO or a device
		return nil, nil, fs.ErrPermission
	}
	name := rel
	if name == "" {
		name = "."
	}
	file, err := rt.Open(name)
	if err != nil {
		return nil, nil, unwrap(err)
	}
	got, err := file.Stat()
	if err != nil || !os.SameFile(fi, got) { // swapped between the check and the open
		file.Close()
		return nil, nil, fs.ErrPermission
	}
	return file, fi, nil
}

// lstatPath stats rel and refuses it if any of its components is a symlink.
func lstatPath(rt *os.Root, rel string) (fs.FileInfo, error) {
	if rel == "" {
		return rt.Lstat(".")
	}
	var fi fs.FileInfo
	for i := 0; ; {
		j := strings.IndexByte(rel[i:], '/')
		prefix := rel
		if j >= 0 {
			prefix = rel[:i+j]
		}
		var err error
		if fi, err = rt.Lstat(prefix); err != nil {
			return nil, unwrap(err)
		}
		if fi.Mode()&fs.ModeSymlink != 0 {
			return nil, fs.ErrPermission
		}
		if j < 0 {
			return fi, nil
		}
		i += j + 1
	}
}

func unwrap(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// roFile is an open regular file: read, seek and stat, and no method that could change it.
type roFile struct{ file *os.File }

func (r *roFile) Stat() (fs.FileInfo, error)                { return r.file.Stat() }
func (r *roFile) Read(p []byte) (int, error)                { return r.file.Read(p) }
func (r *roFile) ReadAt(p []byte, off int64) (int, error)   { return r.file.ReadAt(p, off) }
func (r *roFile) Seek(off int64, whence int) (int64, error) { return r.file.Seek(off, whence) }
func (r *roFile) Close() error                              { return r.file.Close() }

// dir is an open directory whose listing is filtered by the scope.
type dir struct {
	f    *FS
	file *os.File
	loc  string
	rel  string
	eof  bool
}

func (d *dir) Stat() (fs.FileInfo, error) { return d.file.Stat() }
func (d *dir) Close() error               { return d.file.Close() }
func (d *dir) Read([]byte) (int, error) {
	return 0, &fs.PathError{Op: "read", Path: Path(d.loc, d.rel), Err: errors.New("is a directory")}
}

// ReadDir implements fs.ReadDirFile: only regular files in scope and directories that may hold
// some are listed; symlinks and special files never are.
func (d *dir) ReadDir(n int) ([]fs.DirEntry, error) {
	var out []fs.DirEntry
	for !d.eof && (n <= 0 || len(out) < n) {
		want := 256
		if n > 0 {
			want = n - len(out)
		}
		ents, err := d.file.ReadDir(want)
		for _, e := range ents {
			rel := e.Name()
			if d.rel != "" {
				rel = d.rel + "/" + e.Name()
			}
			switch t := e.Type(); {
			case t.IsRegular() && d.f.scope.Allows(d.loc, rel):
				out = append(out, e)
			case t.IsDir() && d.f.scope.MayContain(d.loc, rel):
				out = append(out, e)
			}
		}
		if err == io.EOF || (err == nil && len(ents) == 0) {
			d.eof = true
			break
		}
		if err != nil {
			return out, err
		}
	}
	if n > 0 && len(out) == 0 && d.eof {
		return nil, io.EOF
	}
	return out, nil
}

// rootDir is MountPoint itself: one directory per known location.
type rootDir struct {
	names []string
	pos   int
}

func (r *rootDir) Stat() (fs.FileInfo, error) { return dirInfo("."), nil }
func (r *rootDir) Close() error               { return nil }
func (r *rootDir) Read([]byte) (int, error) {
	return 0, &fs.PathError{Op: "read", Path: MountPoint, Err: errors.New("is a directory")}
}

func (r *rootDir) ReadDir(n int) ([]fs.DirEntry, error) {
	rest := r.names[r.pos:]
	if n > 0 && len(rest) == 0 {
		return nil, io.EOF
	}
	if n > 0 && n < len(rest) {
		rest = rest[:n]
	}
	r.pos += len(rest)
	out := make([]fs.DirEntry, len(rest))
	for i, name := range rest {
		out[i] = fs.FileInfoToDirEntry(dirInfo(name))
	}
	return out, nil
}

type dirInfo string

func (d dirInfo) Name() string       { return path.Base(string(d)) }
func (d dirInfo) Size() int64        { return 0 }
func (d dirInfo) Mode() fs.FileMode  { return fs.ModeDir | 0o555 }
func (d dirInfo) ModTime() time.Time { return time.Time{} }
func (d dirInfo) IsDir() bool        { return true }
func (d dirInfo) Sys() any           { return nil }

// Interface guards.
var (
	_ fs.FS          = (*FS)(nil)
	_ fs.ReadDirFile = (*dir)(nil)
	_ fs.ReadDirFile = (*rootDir)(nil)
	_ io.ReaderAt    = (*roFile)(nil)
	_ io.Seeker      = (*roFile)(nil)
)
