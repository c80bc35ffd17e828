package treegen

import (
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"

	"golang.org/x/sys/unix"
)

// Version identifies the generator's output: it changes whenever the same Options would give a
// different tree.
const Version = 2

// Options shape a tree. The zero value of each field means its default.
type Options struct {
	// Files is the number of regular files (symlinks come on top).
	Files int
	// Seed selects the tree; the same Options give the same tree.
	Seed uint64
	// SizeScale multiplies every file size and size cap (default 1: median ~1.6 KB, at most
	// 512 KiB). The floors that keep distinct files distinct (32 bytes of text, or the magic plus
	// 16 bytes) are not scaled.
	SizeScale float64
	// DupFraction is the chance that a file copies an earlier file's content (default 0.05;
	// negative for none). EmptyFraction is the chance that a file is empty (default 0.005;
	// negative for none).
	DupFraction, EmptyFraction float64
	// Workers is the number of parallel writers (default 4). It does not change the tree.
	Workers int
	// Symlinks adds about 0.1% symlinks (four on average in smaller trees): to files, to
	// directories, dangling ones, and one loop (see the package documentation).
	Symlinks bool
}

// Stats describe a tree. Dirs counts directories below the root (not the root itself).
type Stats struct {
	Files, Dirs, Symlinks int
	// Bytes is the total size of the regular files.
	Bytes int64
	// Duplicates counts non-empty files whose bytes equal an earlier file's; distinct originals
	// never coincide, so the files hold Files-Empty-Duplicates distinct non-empty contents.
	// Empty counts empty files.
	Duplicates, Empty int
	// Hidden counts the files that the "hidden" ignore rule set would skip: those with a name
	// starting with '.' or below such a directory. No other ignore rule skips anything.
	Hidden int
}

const defaultWorkers = 4

func (o Options) normalize() (Options, error) {
	if o.Files < 0 {
		return o, fmt.Errorf("treegen: Files is %d", o.Files)
	}
	if o.SizeScale == 0 {
		o.SizeScale = 1
	}
	if !(o.SizeScale > 0) || math.IsInf(o.SizeScale, 0) {
		return o, fmt.Errorf("treegen: SizeScale is %v", o.SizeScale)
	}
	for _, f := range []struct {
		p   *float64
		def float64
	}{{&o.DupFraction, 0.05}, {&o.EmptyFraction, 0.005}} {
		switch {
		case *f.p == 0:
			*f.p = f.def
		case *f.p < 0:
			*f.p = 0
		case *f.p > 1 || math.IsNaN(*f.p):
			return o, fmt.Errorf("treegen: fraction %v is not in [0, 1]", *f.p)
		}
	}
	if o.Workers <= 0 {
		o.Workers = defaultWorkers
	}
	return o, nil
}

// Plan reports what Generate would write with these options, without touching the disk.
func Plan(opts Options) (Stats, error) {
	o, err := opts.normalize()
	if err != nil {
		return Stats{}, err
	}
	p := &planner{o: o}
	err = p.run(context.Background())
	return p.st, err
}

// Generate writes the tree described by opts into dir, which must be empty or absent, and
// returns its statistics (equal to Plan's). progress, if not nil, is called with the number of
// files written so far and opts.Files, from one goroutine at a time, with done never
// decreasing and finally equal to total. On an error or when ctx is cancelled, Generate stops
// and returns the error (ctx.Err() for a cancellation) and leaves a partial tree for the caller
// to remove.
func Generate(ctx context.Context, dir string, opts Options, progress func(done, total int)) (Stats, error) {
	o, err := opts.normalize()
	if err != nil {
		return Stats{}, err
	}
	if ents, err := os.ReadDir(dir); err == nil && len(ents) > 0 {
		return Stats{}, fmt.Errorf("treegen: %s is not empty", dir)
	} else if err != nil && !errors.Is(err, os.ErrNotExist) {
		return Stats{}, fmt.Errorf("treegen: %w", err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return Stats{}, fmt.Errorf("treegen: %w", err)
	}
	root, err := filepath.Abs(dir)
	if err != nil {
		return Stats{}, fmt.Errorf("treegen: %w", err)
	}
	parent := ctx
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)

	var (
		done     atomic.Int64
		progMu   sync.Mutex
		reported int64
		step     = int64(max(o.Files/200, 500))
	)
	report := func(n int64) {
		progMu.Lock()
		defer progMu.Unlock()
		if n > reported {
			reported = n
			progress(int(n), o.Files)
		}
	}

	batches := make(chan *batch, 4*o.Workers)
	var wg sync.WaitGroup
	for w := 0; w < o.Workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			buf := make([]byte, 0, 64<<10)
			for b := range batches {
				if ctx.Err() != nil {
					continue // drain
				}
				if err := writeBatch(ctx, root, b, &buf); err != nil {
					cancel(err)
					continue
				}
				n := done.Add(int64(len(b.files)))
				if progress != nil && n/step != (n-int64(len(b.files)))/step {
					report(n)
				}
			}
		}()
	}
	p := &planner{o: o}
	p.mkdir = func(rel string) error {
		if err := os.Mkdir(filepath.Join(root, rel), 0o755); err != nil {
			return fmt.Errorf("treegen: %w", err)
		}
		return nil
	}
	p.emit = func(b *batch) error {
		select {
		case batches <- b:
			return nil
		case <-ctx.Done():
			return context.Cause(ctx)
		}
	}
	planErr := p.run(ctx)
	if planErr != nil {
		cancel(planErr)
	}
	close(batches)
	wg.Wait()
	if err := parent.Err(); err != nil {
		return p.st, err
	}
	if err := context.Cause(ctx); err != nil {
		return p.st, err
	}
	// Directory mtimes last, as creating entries changed them: each directory gets its newest
	// direct file's mtime (2015-01-01 if it has none), the root the newest of all.
	newest := baseTime
	for i := range p.dirs {
		newest = max(newest, p.dirs[i].mtime)
	}
	for i := range p.dirs {
		if err := setTime(-1, filepath.Join(root, p.dirs[i].path), p.dirs[i].mtime, 0); err != nil {
			return p.st, err
		}
	}
	if err := setTime(-1, root, newest, 0); err != nil {
		return p.st, err
	}
	if progress != nil {
		report(int64(o.Files))
	}
	return p.st, nil
}

func setTime(dirfd int, name string, t int64, flags int) error {
	if dirfd < 0 {
		dirfd = unix.AT_FDCWD
	}
	ts := []unix.Timespec{{Sec: t}, {Sec: t}}
	if err := unix.UtimesNanoAt(dirfd, name, ts, flags); err != nil {
		return fmt.Errorf("treegen: setting the mtime of %s: %w", name, err)
	}
	return nil
}

// writeBatch creates a batch's subdirectories, files and symlinks, relative to their directory's
// descriptor, once the directory exists.
func writeBatch(ctx context.Context, root string, b *batch, buf *[]byte) error {
	if b.ready != nil {
		// Made by a batch taken from the queue earlier, which is running or done: no cycle.
		select {
		case <-b.ready:
		case <-ctx.Done():
			return context.Cause(ctx)
		}
	}
	dpath := filepath.Join(root, b.dir)
	dfd, err := unix.Open(dpath, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("treegen: opening %s: %w", dpath, err)
	}
	defer unix.Close(dfd)
	for _, s := range b.subdirs {
		if err := unix.Mkdirat(dfd, s.name, 0o755); err != nil {
			return fmt.Errorf("treegen: creating %s: %w", filepath.Join(dpath, s.name), err)
		}
		close(s.ready)
	}
	for i := range b.files {
		if err := writeFile(dfd, &b.files[i], buf); err != nil {
			return fmt.Errorf("treegen: writing %s: %w", filepath.Join(dpath, b.files[i].name), err)
		}
	}
	for _, l := range b.links {
		if err := unix.Symlinkat(l.target, dfd, l.name); err != nil {
			return fmt.Errorf("treegen: symlink %s: %w", filepath.Join(dpath, l.name), err)
		}
		if err := setTime(dfd, l.name, l.mtime, unix.AT_SYMLINK_NOFOLLOW); err != nil {
			return err
		}
	}
	return nil
}

func writeFile(dfd int, f *fileSpec, buf *[]byte) error {
	fd, err := unix.Openat(dfd, f.name, unix.O_WRONLY|unix.O_CREAT|unix.O_EXCL|unix.O_CLOEXEC, 0o644)
	if err != nil {
		return err
	}
	g := newGen(f.seed, f.class, f.ext)
	for left := f.size; left > 0; {
		n := min(left, chunkSize)
		if int64(cap(*buf)) < n {
			*buf = make([]byte, 0, n)
		}
		b := (*buf)[:n]
		g.next(b)
		for len(b) > 0 {
			w, err := unix.Write(fd, b)
			if err == unix.EINTR {
				continue
			}
			if err != nil {
				unix.Close(fd)
				return err
			}
			b = b[w:]
		}
		left -= n
	}
	// mtime before close (close does not change it)
	if err := unix.UtimesNanoAt(dfd, f.name, []unix.Timespec{{Sec: f.mtime}, {Sec: f.mtime}}, 0); err != nil {
		unix.Close(fd)
		return err
	}
	return unix.Close(fd)
}
