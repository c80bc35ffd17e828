package index

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"sync"
	"unicode/utf8"

	"golang.org/x/sys/unix"

	"github.com/cairnfs/cairn/core/store"
)

// Rules decide what the walk skips; core/ignore provides them.
type Rules interface {
	// Match reports whether the child name (a directory when isDir) of the rules' directory is ignored.
	Match(name string, isDir bool) (ignored bool, reason string)
	// Enter returns the rules for the child directory name, given its listing and a reader for
	// small files in it (.gitignore and friends).
	Enter(name string, listing []string, read func(string) ([]byte, error)) (Rules, []string, error)
}

// Stat is what the walk learns about one directory child.
type Stat struct {
	Name       string
	Kind       store.Kind
	Size       int64
	MtimeNs    int64
	Inode      uint64
	LinkTarget string
}

// Skip is a path the walk could not index, with the reason.
type Skip struct {
	Rel    string
	Reason string
}

// DirResult is one directory as read from disk. Results reach the consumer parent-first: a
// directory's result is always sent before the results of any directory below it.
type DirResult struct {
	Rel      string
	Self     Stat // the directory itself (for the root: its own stat)
	Children []Stat
	// Readable is false when the directory could not be listed: its indexed children must be
	// kept as they are ("cannot access" is not "deleted").
	Readable bool
	Skips    []Skip
	// Notes are listed with the skips but nothing was skipped (e.g. a name that is not UTF-8).
	Notes   []Skip
	Ignored int // children dropped by the rules
}

type walkItem struct {
	rel   string
	abs   string
	self  Stat
	rules Rules
}

// walker is a parallel directory walk: a LIFO work stack served by several goroutines (the walk
// is syscall-bound, so more goroutines than cores overlap the waits).
type walker struct {
	root    string
	workers int
	out     chan<- DirResult

	mu      sync.Mutex
	cond    *sync.Cond
	stack   []walkItem
	pending int
	err     error
}

func walk(ctx context.Context, root string, rootRules Rules, workers int, out chan<- DirResult) error {
	if workers <= 0 {
		workers = max(4, 4*runtime.GOMAXPROCS(0))
	}
	var st unix.Stat_t
	if err := unix.Lstat(root, &st); err != nil {
		return fmt.Errorf("reading location root %s: %w", root, err)
	}
	if st.Mode&unix.S_IFMT != unix.S_IFDIR {
		return fmt.Errorf("location root %s is not a directory", root)
	}
	w := &walker{root: root, workers: workers, out: out}
	w.cond = sync.NewCond(&w.mu)
	w.stack = append(w.stack, walkItem{rel: "", abs: root, self: statFrom("", &st, ""), rules: rootRules})
	w.pending = 1
	stop := context.AfterFunc(ctx, func() {
		w.mu.Lock()
		if w.err == nil {
			w.err = ctx.Err()
		}
		w.mu.Unlock()
		w.cond.Broadcast()
	})
	defer stop()
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			w.work(ctx)
		}()
	}
	wg.Wait()
	return w.err
}

func (w *walker) work(ctx context.Context) {
	buf := make([]byte, 64<<10)
	for {
		w.mu.Lock()
		for len(w.stack) == 0 && w.pending > 0 && w.err == nil {
			w.cond.Wait()
		}
		if w.err != nil || w.pending == 0 {
			w.mu.Unlock()
			return
		}
		it := w.stack[len(w.stack)-1]
		w.stack = w.stack[:len(w.stack)-1]
		w.mu.Unlock()

		res, subdirs := readDir(it, buf)
		select {
		case w.out <- res: // parent first: sent before its subdirectories are queued
		case <-ctx.Done():
			w.mu.Lock()
			if w.err == nil {
				w.err = ctx.Err()
			}
			w.mu.Unlock()
			w.cond.Broadcast()
			return
		}
		w.mu.Lock()
		w.stack = append(w.stack, subdirs...)
		w.pending += len(subdirs) - 1
		w.mu.Unlock()
		w.cond.Broadcast()
	}
}

func statFrom(name string, st *unix.Stat_t, target string) Stat {
	s := Stat{Name: name, Size: st.Size, MtimeNs: st.Mtim.Sec*1e9 + st.Mtim.Nsec, Inode: st.Ino, LinkTarget: target}
	switch st.Mode & unix.S_IFMT {
	case unix.S_IFDIR:
		s.Kind, s.Size = store.KindDir, 0
	case unix.S_IFLNK:
		s.Kind = store.KindSymlink
	case unix.S_IFIFO:
		s.Kind, s.Size = store.KindFIFO, 0
	case unix.S_IFCHR, unix.S_IFBLK:
		s.Kind, s.Size = store.KindDevice, 0
	case unix.S_IFSOCK:
		s.Kind, s.Size = store.KindSocket, 0
	default:
		s.Kind = store.KindFile
	}
	return s
}

// readDir lists one directory with getdents and fstatat (no path strings built per child).
func readDir(it walkItem, buf []byte) (DirResult, []walkItem) {
	res := DirResult{Rel: it.rel, Self: it.self}
	fd, err := unix.Open(it.abs, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC|unix.O_NOFOLLOW, 0)
	if err != nil {
		res.Skips = append(res.Skips, Skip{Rel: it.rel, Reason: "cannot open directory: " + errText(err)})
		return res, nil
	}
	defer unix.Close(fd)
	names, err := readNames(fd, buf)
	if err != nil {
		res.Skips = append(res.Skips, Skip{Rel: it.rel, Reason: "cannot list directory: " + errText(err)})
		return res, nil
	}
	res.Readable = true
	rules := it.rules
	if rules != nil { // the root too: its Enter("") reads the root's own ignore files
		var warns []string
		rules, warns, err = rules.Enter(it.self.Name, names, func(n string) ([]byte, error) { return readAt(fd, n) })
		for _, wmsg := range warns {
			res.Skips = append(res.Skips, Skip{Rel: it.rel, Reason: "ignore rules: " + wmsg})
		}
		if err != nil {
			res.Skips = append(res.Skips, Skip{Rel: it.rel, Reason: "ignore rules: " + err.Error()})
			rules = it.rules
		}
	}
	res.Children = make([]Stat, 0, len(names))
	var subdirs []walkItem
	for _, n := range names {
		var st unix.Stat_t
		if err := unix.Fstatat(fd, n, &st, unix.AT_SYMLINK_NOFOLLOW); err != nil {
			if errors.Is(err, unix.ENOENT) {
				continue // vanished between listing and stat: it is simply not there
			}
			res.Skips = append(res.Skips, Skip{Rel: store.JoinRel(it.rel, n), Reason: "cannot stat: " + errText(err)})
			continue
		}
		isDir := st.Mode&unix.S_IFMT == unix.S_IFDIR
		if rules != nil {
			if ign, _ := rules.Match(n, isDir); ign {
				res.Ignored++
				continue
			}
		}
		target := ""
		if st.Mode&unix.S_IFMT == unix.S_IFLNK {
			target = readlinkAt(fd, n)
		}
		s := statFrom(n, &st, target)
		if !utf8.ValidString(n) {
			res.Notes = append(res.Notes, Skip{Rel: store.JoinRel(it.rel, n), Reason: "note: name is not valid UTF-8 (indexed with its raw bytes)"})
		}
		res.Children = append(res.Children, s)
		if isDir {
			rel := store.JoinRel(it.rel, n)
			subdirs = append(subdirs, walkItem{rel: rel, abs: it.abs + "/" + n, self: s, rules: rules})
		}
	}
	return res, subdirs
}

func errText(err error) string {
	var errno unix.Errno
	if errors.As(err, &errno) {
		return errno.Error()
	}
	return err.Error()
}

// readNames reads every name in a directory with getdents64.
func readNames(fd int, buf []byte) ([]string, error) {
	var names []string
	for {
		n, err := unix.Getdents(fd, buf)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return nil, err
		}
		if n <= 0 {
			return names, nil
		}
		_, _, names = unix.ParseDirent(buf[:n], -1, names)
	}
}

func readAt(dirfd int, name string) ([]byte, error) {
	fd, err := unix.Openat(dirfd, name, unix.O_RDONLY|unix.O_CLOEXEC|unix.O_NOFOLLOW, 0)
	if err != nil {
		return nil, err
	}
	f := os.NewFile(uintptr(fd), name)
	defer f.Close()
	return io.ReadAll(io.LimitReader(f, 1<<20))
}

func readlinkAt(dirfd int, name string) string {
	b := make([]byte, 256)
	for {
		n, err := unix.Readlinkat(dirfd, name, b)
		if err != nil {
			return ""
		}
		if n < len(b) {
			return string(b[:n])
		}
		b = make([]byte, 2*len(b))
	}
}
