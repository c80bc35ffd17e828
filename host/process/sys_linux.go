package process

import (
	"bytes"
	"os"
	"os/exec"
	"strconv"
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

// killGroup sends SIGKILL to the process group led by pid and to every process of the session
// led by pid: a helper that moved to a process group of its own stays in the session, and the
// sandbox forbids setsid. (A session id, like a group id, is not reused while a member lives.)
func killGroup(pid int, _ *exec.Cmd) {
	if pid <= 0 {
		return
	}
	_ = syscall.Kill(-pid, syscall.SIGKILL)
	for range 16 { // each round kills what the previous one's victims forked meanwhile
		if killSession(pid) == 0 {
			return
		}
	}
}

// killSession SIGKILLs the processes of session sid and returns how many it found.
func killSession(sid int) int {
	d, err := os.Open("/proc")
	if err != nil {
		return 0
	}
	defer d.Close()
	names, _ := d.Readdirnames(-1)
	self, n := os.Getpid(), 0
	for _, name := range names {
		pid, err := strconv.Atoi(name)
		if err != nil || pid == self {
			continue
		}
		if s, ok := sessionOf(pid); ok && s == sid {
			_ = syscall.Kill(pid, syscall.SIGKILL)
			n++
		}
	}
	return n
}

// sessionOf reads the session id of pid from /proc/PID/stat ("pid (comm) state ppid pgrp
// session …"; comm may hold spaces and parentheses, so fields count from the last ')').
// Zombies are left out: they are dead already.
func sessionOf(pid int) (int, bool) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, false
	}
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, false
	}
	f := bytes.Fields(b[i+1:])
	if len(f) < 4 || string(f[0]) == "Z" || string(f[0]) == "X" {
		return 0, false
	}
	s, err := strconv.Atoi(string(f[3]))
	return s, err == nil
}

const hasPdeathsig = true
