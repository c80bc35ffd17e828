//go:build unix

package host_test

import (
	"syscall"
	"time"
)

// cpuTime is the CPU time (user + system) the test process has used so far: on a shared
// machine it measures work where wall time also measures waiting for a core.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
