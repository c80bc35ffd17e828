package process

import (
	"errors"

	"github.com/cairnfs/cairn/host/ext"
)

// sentinel is an error that is also another (so ErrCrashed counts as a fault: it is an ext.ErrTrap).
type sentinel struct {
	msg  string
	base error
}

func (e *sentinel) Error() string { return e.msg }
func (e *sentinel) Unwrap() error { return e.base }

var (
	// ErrCrashed: the extension's process exited or was killed while the call ran, or is being
	// restarted after that and could not serve the call in time. It is an ext.ErrTrap, so it
	// counts as a fault.
	ErrCrashed error = &sentinel{"extension process crashed", ext.ErrTrap}
	// ErrChecksumMismatch: the binary's SHA-256 is not the pinned one; it was not started.
	ErrChecksumMismatch = errors.New("extension binary does not match its pinned checksum")
	// ErrInputTooLarge: the input is over what an extension accepts (plugin.MaxInput).
	ErrInputTooLarge = errors.New("input too large")
)

// The outcomes of host/ext, for callers of this package.
var (
	ErrDeadline       = ext.ErrDeadline
	ErrOutputTooLarge = ext.ErrOutputTooLarge
	ErrDisabled       = ext.ErrDisabled
	ErrGuest          = ext.ErrGuest
	ErrNoExport       = ext.ErrNoExport
	ErrClosed         = ext.ErrClosed
)
