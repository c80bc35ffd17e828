package process

import (
	"os/exec"
	"syscall"
)

// setSysProcAttr puts the child in its own process group (so the host can kill it and
// everything it started in one go, and a Ctrl-C on the host's terminal does not reach it) and
// asks the kernel to SIGKILL it when its parent dies.
//
// The kernel's "parent" for the death signal is the thread that forked, not the process: see
// spawn, which forks from a goroutine locked to its thread for the child's whole life.
func setSysProcAttr(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}

// killGroup sends SIGKILL to the process group led by pid.
func killGroup(pid int, _ *exec.Cmd) {
	if pid > 0 {
		_ = syscall.Kill(-pid, syscall.SIGKILL)
	}
}

const hasPdeathsig = true
