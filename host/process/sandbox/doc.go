// Package sandbox confines a native extension's process on Linux with what the kernel offers
// cheaply: no capabilities, no new privileges (PR_SET_NO_NEW_PRIVS), no setsid (a seccomp
// filter, so that the host can kill everything the extension started by its session) and
// Landlock (file system, TCP and signal/abstract-socket scoping, as far as the kernel's
// Landlock ABI goes).
//
// Landlock and no_new_privs apply to the process that asks for them, so they must be applied
// before the extension's own code runs, and that code is not trusted to do it. The host
// therefore starts a trampoline: its own binary, run as `cairn __sandbox-exec POLICY PATH
// ARGS…` (Main). The trampoline hashes the extension binary through an open descriptor and
// refuses one that does not match the pinned SHA-256 (exit status ExitChecksum), points its
// standard input at /dev/null, drops its capabilities, sets no_new_privs, installs the seccomp
// filter, restricts itself with Landlock to the policy's paths and executes the extension from
// that same descriptor (execveat), so that the file hashed is the file run. All of it survives execve and is inherited by every
// process the extension starts.
//
// # The baseline
//
// Besides what the extension was granted (Policy.Read: its content.read locations, read
// only), every sandboxed extension may read and execute the system's programs and libraries
// (/usr, /bin, /sbin, /lib*, /opt, /nix/store and the absolute PATH entries that do not hold
// the home folder), read /etc, /proc, /sys, /dev's listing and /var/cache/fontconfig, read
// and write /dev/null, /dev/zero, /dev/full, /dev/random and /dev/urandom, read and execute
// its own binary and install folder, and do anything in its private scratch folder (its
// TMPDIR and HOME). Everything else — the user's home, other libraries, SSH keys — is out of
// reach. The locations are fixed when the process starts: a location added later needs a
// restart.
//
// Landlock ABI 4 and later also deny TCP bind and connect unless Policy.Net; ABI 6 and later
// keep the extension from signalling processes outside its sandbox (the host, the user's
// other programs) and from connecting to abstract Unix sockets outside it. /proc stays
// readable, but Landlock denies the ptrace-class accesses (another process's environ, mem,
// fds) to processes outside the sandbox.
//
// When the kernel has no Landlock (ABI 0: not built in, or disabled at boot), the extension
// runs without the file system part, and the host says so in its log (Status.Report: "landlock:
// not supported by this kernel (ABI 0): native extension X runs without a filesystem
// sandbox"). On other systems there is no sandbox.
package sandbox
