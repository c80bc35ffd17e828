//go:build !unix

package frame

import "os/exec"

// setGroup: exec.CommandContext kills the child itself on cancel.
func setGroup(*exec.Cmd) {}
