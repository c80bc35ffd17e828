//go:build linux

package sandbox

import "golang.org/x/sys/unix"

const (
	nativeArch   = unix.AUDIT_ARCH_X86_64
	altSetsid    = 0x40000000 | unix.SYS_SETSID // x32
	compatArch   = unix.AUDIT_ARCH_I386
	compatSetsid = 66
)
