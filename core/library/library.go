package library

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/cairnfs/cairn/core/device"
	"github.com/cairnfs/cairn/core/events"
	"github.com/cairnfs/cairn/core/jobs"
	"github.com/cairnfs/cairn/core/store"
)

// Library is an open library.
type Library struct {
	Name     string
	Dir      string
	Store    *store.Store
	Device   *device.Identity
	DeviceID int64 // this device's row in the library
	// Bus carries the library's events (job progress, …) to whoever subscribes.
	Bus *events.Bus
	// Jobs runs the library's durable jobs; their progress is published on Bus.
	Jobs *jobs.Manager
	lock *fileLock
}

// OpenOptions select how a library is opened.
type OpenOptions struct {
	// Write takes the library's exclusive lock: indexing, adding or removing locations, verify.
	// Readers (ls, show, dupes, jobs list) and job control do not need it: SQLite's own locking
	// keeps concurrent readers consistent with one writer.
	Write bool
}

// Open opens the library called name.
func (h Home) Open(ctx context.Context, name string, opts OpenOptions) (*Library, error) {
	if err := h.Check(name); err != nil {
		return nil, err
	}
	dir := h.Path(name)
	dev, err := h.Device()
	if err != nil {
		return nil, err
	}
	l := &Library{Name: name, Dir: dir, Device: dev}
	if opts.Write {
		if l.lock, err = acquireLock(dir); err != nil {
			return nil, fmt.Errorf("opening library %s: %w", name, err)
		}
	}
	dbPath := filepath.Join(dir, dbFile)
	if err := checkDB(name, dbPath); err != nil {
		l.lock.release()
		return nil, err
	}
	l.Store, err = store.Open(ctx, dbPath, store.Options{})
	if err != nil {
		l.lock.release()
		return nil, fmt.Errorf("opening library %s: %w", name, err)
	}
	l.DeviceID, err = l.Store.EnsureDevice(ctx, store.Device{UUID: dev.ID, Name: dev.Name, Slug: dev.Slug, OS: dev.OS, PublicKey: dev.PublicKey})
	if err != nil {
		l.Close()
		return nil, fmt.Errorf("opening library %s: %w", name, err)
	}
	l.Bus = events.NewBus()
	l.Jobs = jobs.NewManager(l.Store.SQL())
	l.Jobs.OnProgress = func(p jobs.Progress) { l.Bus.Publish(p) }
	return l, nil
}

// sqliteMagic is how every SQLite database file begins.
const sqliteMagic = "SQLite format 3\x00"

// checkDB refuses a library database that SQLite would silently treat as a new, empty one (a
// missing or 0-byte file: opening it would write a fresh schema over what is left) or that is
// not a SQLite database at all. An existing library always has a non-empty database: Create
// writes the schema and checkpoints it into library.db before the library appears.
func checkDB(name, path string) error {
	bad := func(format string, args ...any) error {
		return corruptError{fmt.Sprintf("library %s: %s ", name, dbFile) + fmt.Sprintf(format, args...) +
			fmt.Sprintf("; restore it from a backup, or delete the library (cairn library delete %s) and index again (%s)", name, path)}
	}
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return bad("is missing")
	}
	if err != nil {
		return fmt.Errorf("opening library %s: %w", name, err)
	}
	defer f.Close()
	head := make([]byte, len(sqliteMagic))
	n, err := io.ReadFull(f, head)
	switch {
	case n == 0 && (err == io.EOF || err == nil):
		return bad("is empty (0 bytes): the database is corrupt or was truncated")
	case err != nil && err != io.ErrUnexpectedEOF:
		return fmt.Errorf("opening library %s: reading %s: %w", name, path, err)
	case string(head[:n]) != sqliteMagic:
		return bad("is not a SQLite database (%d bytes that do not begin with %q)", fileSize(f), strings.TrimSuffix(sqliteMagic, "\x00"))
	}
	return nil
}

// corruptError is store.ErrCorrupt worded as what is wrong and what to do.
type corruptError struct{ msg string }

func (e corruptError) Error() string        { return e.msg }
func (e corruptError) Is(target error) bool { return target == store.ErrCorrupt }

func fileSize(f *os.File) int64 {
	st, err := f.Stat()
	if err != nil {
		return -1
	}
	return st.Size()
}

// Writable reports whether this handle holds the library's write lock.
func (l *Library) Writable() bool { return l.lock != nil && l.lock.f != nil }

// SidecarDir is the library's sidecar folder.
func (l *Library) SidecarDir() string { return filepath.Join(l.Dir, "sidecars") }

// Close closes the database and releases the lock.
func (l *Library) Close() error {
	var err error
	if l.Bus != nil {
		l.Bus.Close()
	}
	if l.Store != nil {
		err = l.Store.Close()
	}
	l.lock.release()
	return err
}
