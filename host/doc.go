// Package host is Cairn's extension host: it loads extensions, enforces their manifests,
// capabilities and limits, and serves the host ABI on top of the kernel.
//
// Host wires the parts together:
//
//   - host/capability: requested ∩ granted capabilities and their scopes;
//   - host/datafs: the read-only /data tree of exactly the granted files;
//   - host/abi: the host ABI v1 dispatcher (cairn:host/v1 call), with capability checks, audit
//     of denials, a rate limit and quotas per extension (audit rows, log bytes, denied calls,
//     stored bytes: Limits.Quotas), and the HTTP client of http.request (Config.HTTP), the only
//     network an extension has;
//   - host/backend: the ABI's backends on the library's SQLite store, sidecar folder, event bus
//     and jobs;
//   - host/wasm: the WASM runtime (Extism on wazero) with its compilation cache and instance pools;
//   - host/ext: the Extension handle (deadlines, output cap, fault counting, disabling);
//   - host/modules: the registry of stages, loaders and sidecar generators of every kind, with
//     the limits of their outcomes' data (Limits.Outcomes).
//
// Every export call is measured by its extension's abi.Caller (ext.Meter): a call that makes
// too many denied host calls is a fault, and an extension over its run's quota of them is
// disabled. Unload writes the counts of repeated denials to the audit log.
//
// Loading a WASM extension (Host.Load) checks, in order: the manifest is valid; the ABI range admits this host's ABI (else an error naming both sides and which is too old);
// the module's BLAKE3 matches the manifest; the user's grant intersects with the request; the
// config is a JSON object. Then it compiles (or loads from cache) the module, mounts the granted
// files, creates the first instance (every import must resolve; cairn_init runs), and registers
// the extension's stages, loaders and sidecar generators, failing loudly on a duplicate id.
//
// A process (go-plugin) extension goes through the same checks, its entry file (the executable)
// pinned by the same BLAKE3; it is then started with host/process, pinned again by SHA-256 for
// go-plugin's SecureConfig, with the Host as its Dispatcher, so its host calls get the same
// capability checks, rate limit and audit. Its calls have the same ext.Limits, and its
// contributions are registered the same way (kind modules.Process). Unload and Close stop the
// process. It is not sandboxed: its stage items carry host paths, only inside its content.read
// scope.
package host
