package datafs

import (
	"errors"
	"io/fs"
	"os"
	"runtime"
	"sync/atomic"

	"golang.org/x/sys/unix"
)

// noOpenat2 is set once openat2 turned out to be unavailable (Linux < 5.6, or a seccomp filter).
var noOpenat2 atomic.Bool

// openBeneath opens rel below the directory dir in one openat2 call that refuses any symlink in
// any component and any escape from dir (RESOLVE_NO_SYMLINKS | RESOLVE_BENEATH): the check and
// the open are the same system call, so there is no window for a swap. O_NONBLOCK keeps a FIFO
// from blocking the open (it is refused right after, as not a regular file). ok is false when
// openat2 is unavailable and the caller must use the portable path.
func openBeneath(dir *os.File, rel string) (f *os.File, ok bool, err error) {
	if noOpenat2.Load() {
		return nil, false, nil
	}
	if rel == "" {
		rel = "."
	}
	how := &unix.OpenHow{
		Flags:   unix.O_RDONLY | unix.O_CLOEXEC | unix.O_NONBLOCK | unix.O_NOCTTY,
		Resolve: unix.RESOLVE_BENEATH | unix.RESOLVE_NO_SYMLINKS | unix.RESOLVE_NO_MAGICLINKS,
	}
	var fd int
	for {
		fd, err = unix.Openat2(int(dir.Fd()), rel, how)
		if err != unix.EINTR && err != unix.EAGAIN {
			break
		}
	}
	runtime.KeepAlive(dir)
	switch {
	case err == nil:
		return os.NewFile(uintptr(fd), rel), true, nil
	case errors.Is(err, unix.ENOSYS):
		noOpenat2.Store(true)
		return nil, false, nil
	case errors.Is(err, unix.ELOOP), errors.Is(err, unix.EXDEV):
		return nil, true, fs.ErrPermission // a symlink on the way, or an escape
	case errors.Is(err, unix.ENOENT), errors.Is(err, unix.ENOTDIR):
		return nil, true, fs.ErrNotExist
	case errors.Is(err, unix.EACCES), errors.Is(err, unix.EPERM):
		return nil, true, fs.ErrPermission
	}
	return nil, true, err
}
