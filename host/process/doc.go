// Package process runs native (go-plugin) extensions: each one a child process that speaks
// sdk/plugin's protocol (gRPC over go-plugin with AutoMTLS), calls the host ABI back through a
// Dispatcher, and gets the same per-call limits and fault counting as a WASM extension
// (host/ext).
//
// Start launches the binary and returns an Extension: Call(ctx, export, input) and Close. Launch
// returns the bare Process, an ext.Runner for callers that build their own ext.Extension.
//
// # Guarantees
//
//   - Pinned binary: every start, restarts included, checks the binary's SHA-256 against the
//     pinned one and refuses a mismatch (ErrChecksumMismatch, naming both sums). Without a
//     sandbox go-plugin's SecureConfig checks it, and the file is hashed, then executed by path.
//     With one (Config.Sandbox), go-plugin pins the trampoline (the host's own binary, hashed at
//     Launch) and the trampoline hashes the extension binary through an open descriptor and
//     executes that descriptor: the file hashed is the file run.
//   - Sandbox (Linux, Config.Sandbox): the process runs with no capabilities, no_new_privs, no
//     setsid, and Landlock restricting it to the baseline of package sandbox, its binary and folder, the
//     Read paths (its content.read locations, read only) and a private scratch folder (its
//     TMPDIR and HOME, removed by Close); no TCP without Sandbox.Net and no signals to
//     processes outside the sandbox where the kernel's Landlock ABI has them. Confinement is
//     what the host logged about it: the Landlock ABI, or plainly that there is no file system
//     sandbox on this kernel. Its standard input is /dev/null.
//   - No orphans: on Linux the child gets SIGKILL from the kernel when the host dies, however
//     it dies (Pdeathsig). The signal follows the thread that forked, so the child is forked
//     from a goroutine locked to its OS thread until the child has exited (see spawn). The child
//     runs in a session of its own (so in its own process group, with no controlling terminal,
//     and unable to join a process group of the host's session). When it exits, crashes, hangs
//     or is closed, its process group and every process of its session are killed, so helpers
//     it started go too, even those in process groups of their own; the sandbox's seccomp
//     filter keeps them from leaving the session (setsid). sdk/plugin's Serve also exits when
//     its parent changes, which covers other platforms. Limits: a helper the extension started
//     survives a SIGKILL of the host unless it dies with the extension by itself (its own
//     Pdeathsig); without the sandbox (or on an architecture without its filter) a helper that
//     calls setsid escapes Close; a service manager's cgroup (systemd
//     KillMode=control-group) is the complete answer.
//   - Restart on crash: a process that exits unasked is restarted after a backoff (100 ms
//     doubling to 10 s, back to 100 ms once a process has run a minute). Calls in flight fail
//     with ErrCrashed (a fault); calls that arrive during the backoff wait for the restart when
//     it is due before their deadline, and fail with ErrCrashed otherwise.
//   - Deadlines: at the call's deadline the call fails with ErrDeadline and the export's context
//     is done. An export that has not returned Config.Grace later is hung: the process is killed
//     and restarted. A caller that cancels cancels the export at once.
//   - Limits: outputs over Limits.MaxOutput are refused (ErrOutputTooLarge) by the gRPC
//     transport before they are read; Extension disables the extension after
//     Limits.MaxConsecutiveFaults faults in a row (ErrDisabled) and stops its process until it
//     is re-enabled.
//
// # Host calls
//
// The host serves cairn.host.v1.Host over go-plugin's broker, one server per process, and hands
// each request to the Dispatcher with the extension's configured id. The host call's context
// carries the values of the export call it was made for (the extension sends the call's id back
// as cairn-call-id metadata), so per-call values such as the running job reach the dispatcher.
package process
