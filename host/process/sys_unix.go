//go:build unix && !linux

package process

import (
	"os/exec"
	"syscall"
)

// setSysProcAttr puts the child in its own process group. There is no parent-death signal
// outside Linux: sdk/plugin's Serve exits when its parent changes instead.
func setSysProcAttr(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
}

// killGroup sends SIGKILL to the process group led by pid.
func killGroup(pid int, _ *exec.Cmd) {
	if pid > 0 {
		_ = syscall.Kill(-pid, syscall.SIGKILL)
	}
}

const hasPdeathsig = false
