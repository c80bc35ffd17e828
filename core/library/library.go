package library

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

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
	dir := h.Path(name)
	if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		return nil, fmt.Errorf("%w: %q in %s (see `cairn library list`)", ErrNotFound, name, h.Dir)
	}
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
	if _, err := os.Stat(dbPath); err != nil {
		l.lock.release()
		return nil, fmt.Errorf("%w: library %s has no %s", store.ErrCorrupt, name, dbFile)
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
