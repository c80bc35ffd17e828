//go:build !unix

package process

import "os/exec"

// setSysProcAttr does nothing here: no process groups, no parent-death signal. sdk/plugin's
// Serve exits when its parent changes.
func setSysProcAttr(*exec.Cmd) {}

// killGroup kills the process itself.
func killGroup(_ int, cmd *exec.Cmd) {
	if cmd != nil && cmd.Process != nil {
		_ = cmd.Process.Kill()
	}
}

const hasPdeathsig = false
