//go:build !linux

package sandbox

import (
	"fmt"
	"os"
	"runtime"
)

// Probe reports that there is no sandbox outside Linux.
func Probe() Status {
	return Status{Reason: "not available on " + runtime.GOOS}
}

// Main refuses to run as the trampoline outside Linux (the host does not start one there).
func Main(args []string) bool {
	if len(args) == 0 || args[0] != Arg {
		return false
	}
	fmt.Fprintf(os.Stderr, "cairn %s: no sandbox on %s\n", Arg, runtime.GOOS)
	os.Exit(ExitSandbox)
	return true
}
