package sandbox

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Landlock access rights this package knows, by the ABI that introduced them. Rights of later
// ABIs are left unhandled (allowed) rather than guessed.
const (
	fsABI1 = unix.LANDLOCK_ACCESS_FS_EXECUTE | unix.LANDLOCK_ACCESS_FS_WRITE_FILE | unix.LANDLOCK_ACCESS_FS_READ_FILE |
		unix.LANDLOCK_ACCESS_FS_READ_DIR | unix.LANDLOCK_ACCESS_FS_REMOVE_DIR | unix.LANDLOCK_ACCESS_FS_REMOVE_FILE |
		unix.LANDLOCK_ACCESS_FS_MAKE_CHAR | unix.LANDLOCK_ACCESS_FS_MAKE_DIR | unix.LANDLOCK_ACCESS_FS_MAKE_REG |
		unix.LANDLOCK_ACCESS_FS_MAKE_SOCK | unix.LANDLOCK_ACCESS_FS_MAKE_FIFO | unix.LANDLOCK_ACCESS_FS_MAKE_BLOCK |
		unix.LANDLOCK_ACCESS_FS_MAKE_SYM
	fsRead  = unix.LANDLOCK_ACCESS_FS_READ_FILE | unix.LANDLOCK_ACCESS_FS_READ_DIR
	fsExec  = fsRead | unix.LANDLOCK_ACCESS_FS_EXECUTE
	fsDev   = unix.LANDLOCK_ACCESS_FS_READ_FILE | unix.LANDLOCK_ACCESS_FS_WRITE_FILE | unix.LANDLOCK_ACCESS_FS_TRUNCATE
	fsFiles = unix.LANDLOCK_ACCESS_FS_EXECUTE | unix.LANDLOCK_ACCESS_FS_WRITE_FILE | unix.LANDLOCK_ACCESS_FS_READ_FILE |
		unix.LANDLOCK_ACCESS_FS_TRUNCATE | unix.LANDLOCK_ACCESS_FS_IOCTL_DEV // the rights a rule on a file may hold
)

// handledFS is every file system right of the given ABI this package knows.
func handledFS(abi int) uint64 {
	h := uint64(fsABI1)
	if abi >= 2 {
		h |= unix.LANDLOCK_ACCESS_FS_REFER
	}
	if abi >= 3 {
		h |= unix.LANDLOCK_ACCESS_FS_TRUNCATE
	}
	if abi >= 5 {
		h |= unix.LANDLOCK_ACCESS_FS_IOCTL_DEV
	}
	return h
}

// Probe reports what this kernel offers.
func Probe() Status {
	r, _, e := unix.Syscall(unix.SYS_LANDLOCK_CREATE_RULESET, 0, 0, unix.LANDLOCK_CREATE_RULESET_VERSION)
	switch {
	case e == 0:
		return Status{Available: true, ABI: int(r)}
	case e == unix.EOPNOTSUPP:
		return Status{Reason: "disabled on this system (not in the kernel's lsm= list)"}
	case e == unix.ENOSYS:
		return Status{Reason: "not supported by this kernel"}
	default:
		return Status{Reason: "unavailable: " + e.Error()}
	}
}

// Main runs the trampoline when args (the program's arguments after its name) start with Arg,
// and reports false otherwise. When it runs it does not return: it executes the extension or
// exits with ExitChecksum or ExitSandbox. Call it first thing in main, like firstparty.Serve.
func Main(args []string) bool {
	if len(args) == 0 || args[0] != Arg {
		return false
	}
	// no_new_privs and Landlock apply to the calling thread, which then executes the extension.
	runtime.LockOSThread()
	p, path, rest, err := parse(args[1:])
	if err != nil {
		fail(ExitSandbox, err)
	}
	f, err := os.Open(path)
	if err != nil {
		fail(ExitSandbox, fmt.Errorf("running %s: %w", p.ID, err))
	}
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		fail(ExitSandbox, fmt.Errorf("running %s: hashing %s: %w", p.ID, path, err))
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != p.SHA256 {
		fail(ExitChecksum, fmt.Errorf("running %s: %s has sha256 %s, pinned %s", p.ID, path, got, p.SHA256))
	}
	if err := confine(p, path); err != nil {
		fail(ExitSandbox, fmt.Errorf("sandboxing %s: %w", p.ID, err))
	}
	argv := append([]string{path}, rest...)
	err = execveat(int(f.Fd()), argv, os.Environ())
	fail(ExitSandbox, fmt.Errorf("running %s: executing %s: %w", p.ID, path, err))
	return true
}

func fail(code int, err error) {
	fmt.Fprintf(os.Stderr, "cairn %s: %v\n", Arg, err)
	os.Exit(code)
}

// confine points standard input at /dev/null, drops every capability (a host run as root
// would otherwise hand them all to the extension), sets no_new_privs, forbids setsid and,
// when the policy asks, restricts this thread with Landlock.
func confine(p Policy, binary string) error {
	null, err := unix.Open("/dev/null", unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("opening /dev/null: %w", err)
	}
	if err := unix.Dup3(null, 0, 0); err != nil {
		return fmt.Errorf("replacing standard input: %w", err)
	}
	unix.Close(null)
	if err := dropCapabilities(); err != nil {
		return err
	}
	if err := unix.Prctl(unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); err != nil {
		return fmt.Errorf("setting no_new_privs: %w", err)
	}
	if _, err := denySetsid(); err != nil {
		return err
	}
	if !p.Landlock {
		return nil
	}
	st := Probe()
	if !st.Available {
		return fmt.Errorf("landlock: %s", st.Reason)
	}
	return landlock(st.ABI, p, binary)
}

// dropCapabilities empties this thread's capability sets: bounding (when it may: that takes
// CAP_SETPCAP, which an unprivileged user does not have, nor then anything to lose), ambient,
// effective, permitted and inheritable. With no_new_privs, executing the extension cannot give
// them back, not even to root.
func dropCapabilities() error {
	for c := 0; c <= 63; c++ {
		err := unix.Prctl(unix.PR_CAPBSET_DROP, uintptr(c), 0, 0, 0)
		if errors.Is(err, unix.EINVAL) || errors.Is(err, unix.EPERM) {
			break // past the last capability, or not allowed to drop
		}
		if err != nil {
			return fmt.Errorf("dropping capability %d from the bounding set: %w", c, err)
		}
	}
	if err := unix.Prctl(unix.PR_CAP_AMBIENT, unix.PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0); err != nil && !errors.Is(err, unix.EINVAL) {
		return fmt.Errorf("clearing the ambient capabilities: %w", err)
	}
	var data [2]unix.CapUserData
	if err := unix.Capset(&unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}, &data[0]); err != nil {
		return fmt.Errorf("dropping the capabilities: %w", err)
	}
	return nil
}

// rulesetAttr is struct landlock_ruleset_attr (ABI 6 layout; older kernels accept it when the
// fields they do not know are zero).
type rulesetAttr struct {
	fs, net, scoped uint64
}

func landlock(abi int, p Policy, binary string) error {
	attr := rulesetAttr{fs: handledFS(abi)}
	if abi >= 4 && !p.Net {
		attr.net = unix.LANDLOCK_ACCESS_NET_BIND_TCP | unix.LANDLOCK_ACCESS_NET_CONNECT_TCP
	}
	if abi >= 6 {
		attr.scoped = unix.LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET | unix.LANDLOCK_SCOPE_SIGNAL
	}
	r, _, e := unix.Syscall(unix.SYS_LANDLOCK_CREATE_RULESET, uintptr(unsafe.Pointer(&attr)), unsafe.Sizeof(attr), 0)
	if e != 0 {
		return fmt.Errorf("landlock: creating the ruleset (ABI %d): %w", abi, e)
	}
	ruleset := int(r)
	defer unix.Close(ruleset)
	add := func(access uint64, paths ...string) error {
		for _, path := range paths {
			if err := addRule(ruleset, access&attr.fs, path); err != nil {
				return err
			}
		}
		return nil
	}
	for _, step := range []struct {
		access uint64
		paths  []string
	}{
		{fsExec, baselineExec},
		{fsRead, baselineRead},
		{unix.LANDLOCK_ACCESS_FS_READ_DIR, baselineList},
		{fsDev, baselineDevs},
		{fsExec, append([]string{binary}, p.Exec...)},
		{fsRead, p.Read},
		{attr.fs, p.Write},
	} {
		if err := add(step.access, step.paths...); err != nil {
			return err
		}
	}
	if _, _, e := unix.Syscall(unix.SYS_LANDLOCK_RESTRICT_SELF, uintptr(ruleset), 0, 0); e != 0 {
		return fmt.Errorf("landlock: restricting the process: %w", e)
	}
	return nil
}

// addRule allows access beneath path (a file gets the file rights of access only). A path
// that does not exist is skipped: the baseline names folders some systems lack.
func addRule(ruleset int, access uint64, path string) error {
	fd, err := unix.Open(path, unix.O_PATH|unix.O_CLOEXEC, 0)
	if errors.Is(err, unix.ENOENT) || errors.Is(err, unix.ENOTDIR) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("landlock: opening %s: %w", path, err)
	}
	defer unix.Close(fd)
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return fmt.Errorf("landlock: %s: %w", path, err)
	}
	if st.Mode&unix.S_IFMT != unix.S_IFDIR {
		access &= fsFiles
	}
	if access == 0 {
		return nil
	}
	rule := unix.LandlockPathBeneathAttr{Allowed_access: access, Parent_fd: int32(fd)}
	if _, _, e := unix.Syscall6(unix.SYS_LANDLOCK_ADD_RULE, uintptr(ruleset), unix.LANDLOCK_RULE_PATH_BENEATH,
		uintptr(unsafe.Pointer(&rule)), 0, 0, 0); e != 0 {
		return fmt.Errorf("landlock: allowing %s: %w", path, e)
	}
	return nil
}

// execveat executes the file open as fd: the file hashed is the file run, whatever happens to
// its path meanwhile.
func execveat(fd int, argv, envv []string) error {
	empty, err := syscall.BytePtrFromString("")
	if err != nil {
		return err
	}
	argvp, err := syscall.SlicePtrFromStrings(argv)
	if err != nil {
		return err
	}
	envp, err := syscall.SlicePtrFromStrings(envv)
	if err != nil {
		return err
	}
	_, _, e := unix.Syscall6(unix.SYS_EXECVEAT, uintptr(fd), uintptr(unsafe.Pointer(empty)),
		uintptr(unsafe.Pointer(&argvp[0])), uintptr(unsafe.Pointer(&envp[0])), unix.AT_EMPTY_PATH, 0)
	return e
}
