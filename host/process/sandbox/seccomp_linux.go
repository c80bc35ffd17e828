package sandbox

import (
	"fmt"
	"unsafe"

	"golang.org/x/sys/unix"
)

// denySetsid installs a seccomp filter that makes setsid(2) fail with EPERM in this thread and
// everything it executes: the extension runs as the leader of a session of its own, and
// neither it nor a helper it starts can leave that session, so the host finds and kills them
// all by session (see host/process). Architectures without a filter here (ok false) keep
// setsid. no_new_privs must be set.
func denySetsid() (ok bool, err error) {
	if nativeArch == 0 {
		return false, nil
	}
	const (
		ldArch  = unix.BPF_LD | unix.BPF_W | unix.BPF_ABS
		jeq     = unix.BPF_JMP | unix.BPF_JEQ | unix.BPF_K
		ret     = unix.BPF_RET | unix.BPF_K
		archOff = 4 // offsetof(struct seccomp_data, arch)
		nrOff   = 0 // offsetof(struct seccomp_data, nr)
	)
	prog := []unix.SockFilter{
		/* 0 */ {Code: ldArch, K: archOff},
		/* 1 */ {Code: jeq, K: nativeArch, Jt: 0, Jf: 4}, // → 6
		/* 2 */ {Code: ldArch, K: nrOff},
		/* 3 */ {Code: jeq, K: unix.SYS_SETSID, Jt: 6, Jf: 0}, // → 10
		/* 4 */ {Code: jeq, K: altSetsid, Jt: 5, Jf: 0}, // → 10
		/* 5 */ {Code: ret, K: unix.SECCOMP_RET_ALLOW},
		/* 6 */ {Code: jeq, K: compatArch, Jt: 0, Jf: 2}, // → 9
		/* 7 */ {Code: ldArch, K: nrOff},
		/* 8 */ {Code: jeq, K: compatSetsid, Jt: 1, Jf: 0}, // → 10
		/* 9 */ {Code: ret, K: unix.SECCOMP_RET_ALLOW},
		/* 10 */ {Code: ret, K: unix.SECCOMP_RET_ERRNO | uint32(unix.EPERM)},
	}
	fprog := unix.SockFprog{Len: uint16(len(prog)), Filter: &prog[0]}
	if err := unix.Prctl(unix.PR_SET_SECCOMP, unix.SECCOMP_MODE_FILTER, uintptr(unsafe.Pointer(&fprog)), 0, 0); err != nil {
		return false, fmt.Errorf("installing the seccomp filter: %w", err)
	}
	return true, nil
}
