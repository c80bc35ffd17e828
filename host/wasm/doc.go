// Package wasm runs WASM extensions: Extism's go-sdk on wazero, with the policies of STACK.md
// ("Extism") built in so that no caller can forget one.
//
// # Loading
//
// Runtime holds one wazero compilation cache for the process, on disk when Config.CacheDir is
// set (wazero.NewCompilationCacheWithDir), so a module compiled by one process start is loaded,
// not recompiled, by the next (~50 ms instead of ~1 s for a 3 MB module). Runtime.Load compiles a
// module once (extism.NewCompiledPlugin, one wazero runtime per module) with WASI on, a runtime
// that closes a module when its call's context is done (WithCloseOnContextDone: without it a
// spinning guest hangs the host at its next GC), and a memory limit, and creates the first
// instance to check that every import resolves. When one does not, the module's imports are read
// (wazero CompiledModule.ImportedFunctions) and the error names every function the host does not
// provide (*MissingImportsError), not only the first module. ModuleSpec.StubMissing (for `cairn
// ext run` of third-party plugins) defines each of them instead as a stub with its signature that
// fails the call reaching it (ErrStubCalled), so the exports that never call one still run.
//
// # Instances and the pool
//
// An instance is not goroutine-safe, so each Module keeps a bounded pool: at most
// Limits.PoolSize instances exist at once, created on demand (~3 ms each) and reused. A call
// takes an idle instance (or waits for one, honouring its context) and gives it back afterwards
// unless the call left it unusable. An instance is discarded, never reused, when its call:
//
//   - ran past its deadline (wazero closed it),
//   - hit the memory limit, trapped, or exited (a Go runtime fatal error, a panic on another
//     goroutine),
//   - panicked in a way pdk.Export recovered ("panic: …" errors: the guest's state is suspect, so
//     the policy is to start clean),
//
// and it is recycled (closed without counting a fault) when its linear memories grew past
// Limits.MemoryBudget, since wasm memory never shrinks. A replacement is created by the next call
// that needs one.
//
// Memory is measured exactly: every instance is instantiated with its own
// experimental.MemoryAllocator, which sees each linear memory (the guest's and Extism's kernel
// memory) grow and refuses growth past Limits.MemoryLimitPages; a refused growth is what makes a
// failed call ErrMemoryLimit rather than ErrTrap. The runtime's own limit (WithMemoryLimitPages)
// is set a little above, as a backstop. The memories of all a module's instances together are
// also capped (Limits.PoolMemory, by default one instance's limit), so a pool of N instances
// cannot hold N times the limit.
//
// On Linux each linear memory is an anonymous mapping of its limit, reserved without swap and
// committed page by page as the guest touches it, outside the Go heap: growth never copies, and
// the Go collector (which lets the heap reach twice its live size before collecting) never sees
// guest memory. Freed memories give their pages back at once (madvise), and are unmapped when
// their instance is closed, never under a running call. With Go slices instead, four 256 MiB
// memory bombs took the host from 125 MiB to 2.5 GiB of RSS; now to ~350 MiB.
//
// # Sandbox policy per instance (module config)
//
//   - Clocks: real wall clock and monotonic clock (WithSysWalltime, WithSysNanotime): go-sdk's
//     default is a fake clock stuck at 2022-01-01.
//   - Sleep: a real sleep that also ends when the call's context is done, so a guest sleeping
//     for an hour inside poll_oneoff cannot outlive its deadline (wazero's nanosleep ignores the
//     context).
//   - Randomness: crypto/rand (the default returns the same bytes in every instance).
//   - Files: no ambient filesystem; only ModuleSpec.Files, mounted read-only at /data with
//     wazero's FSConfig.WithFSMount (see host/datafs for what it exposes and how paths map).
//   - stdout and stderr: captured line by line into the extension's logger (at most
//     MaxLogLinesPerCall lines and MaxLogBytesPerCall bytes per call, Limits.LogBytes over the
//     module's life; longer lines are cut, and what is dropped is noted once).
//   - Network: none. Extism's http_request is given no allowed hosts, so it traps on every
//     call (it would follow redirects to any host through http.DefaultClient); the capability
//     net is served by the host call http.request (host/abi), which checks every hop.
//   - Host calls: the single import cairn:host/v1 call (ModuleSpec.HostCall).
package wasm
