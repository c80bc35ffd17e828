package process

import (
	"os/exec"
	"syscall"
)

// setSysProcAttr starts the child in a session of its own, and so in its own process group (so
// the host can kill it and everything it started in one go, and a Ctrl-C on the host's terminal
// does not reach it), with no controlling terminal (it cannot open /dev/tty nor push input into
// the user's terminal with TIOCSTI, nor join a process group of the host's session), and asks
// the kernel to SIGKILL it when its parent dies.
//
// The kernel's "parent" for the death signal is the thread that forked, not the process: see
// spawn, which forks from a goroutine locked to its thread for the child's whole life.
func setSysProcAttr(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Pdeathsig: syscall.SIGKILL}
}

// killGroup sends SIGKILL to the process group led by pid.
func killGroup(pid int, _ *exec.Cmd) {
	if pid > 0 {
		_ = syscall.Kill(-pid, syscall.SIGKILL)
	}
}

const hasPdeathsig = true
