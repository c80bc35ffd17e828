//go:build unix

package main

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/cairnfs/cairn/sdk/plugin"
	"golang.org/x/sys/unix"
)

// sandboxExports are the exports of the sandbox's hostile tests: each answers what the kernel
// let it do.
func sandboxExports() map[string]plugin.Export {
	return map[string]plugin.Export{
		"read": func(_ context.Context, _ plugin.Host, in []byte) ([]byte, error) { return os.ReadFile(string(in)) },
		"write": func(_ context.Context, _ plugin.Host, in []byte) ([]byte, error) {
			return nil, os.WriteFile(string(in), []byte("written by the extension"), 0o644)
		},
		"tmpdir": func(context.Context, plugin.Host, []byte) ([]byte, error) { return []byte(os.TempDir()), nil },
		"ids": func(context.Context, plugin.Host, []byte) ([]byte, error) {
			sid, err := unix.Getsid(0)
			if err != nil {
				return nil, err
			}
			return fmt.Appendf(nil, "%d %d %d", os.Getpid(), syscall.Getpgrp(), sid), nil
		},
		// setpgid moves the process into the process group in its input.
		"setpgid": func(_ context.Context, _ plugin.Host, in []byte) ([]byte, error) {
			pgid, err := strconv.Atoi(string(in))
			if err != nil {
				return nil, err
			}
			return nil, syscall.Setpgid(0, pgid)
		},
		// signal sends signal 0 (a permission check, nothing delivered) to the pid in its input.
		"signal": func(_ context.Context, _ plugin.Host, in []byte) ([]byte, error) {
			pid, err := strconv.Atoi(string(in))
			if err != nil {
				return nil, err
			}
			return nil, syscall.Kill(pid, 0)
		},
		"dial": func(_ context.Context, _ plugin.Host, in []byte) ([]byte, error) {
			c, err := net.DialTimeout("tcp", string(in), 10*time.Second)
			if err != nil {
				return nil, err
			}
			return nil, c.Close()
		},
		// detach starts `sleep 600` in a session ("setsid") or a process group ("setpgid") of
		// its own, out of the extension's process group, and answers its pid.
		"detach": func(_ context.Context, _ plugin.Host, in []byte) ([]byte, error) {
			cmd := exec.Command("sleep", "600")
			switch string(in) {
			case "setsid":
				cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
			case "setpgid":
				cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
			default:
				return nil, fmt.Errorf("detach %q: want setsid or setpgid", in)
			}
			if err := cmd.Start(); err != nil {
				return nil, err
			}
			go cmd.Wait()
			return []byte(strconv.Itoa(cmd.Process.Pid)), nil
		},
		// exec runs the command in its input (space-separated) and answers its output.
		"exec": func(_ context.Context, _ plugin.Host, in []byte) ([]byte, error) {
			f := strings.Fields(string(in))
			return exec.Command(f[0], f[1:]...).CombinedOutput()
		},
	}
}
