// Package backend implements the host ABI's backends (host/abi.Backends) on the kernel: the
// library's SQLite store (core/store) for key-value data, entries, contents, user metadata, tags,
// sidecar records, proposed actions and the audit log; the library folder for sidecar files; the
// event bus (core/events) for extension events; and a running job (core/jobs) for progress and
// checkpoints.
//
// It trusts its caller: capability and scope checks happen in host/abi before any method here
// runs. What it does check is what keeps the store sound (targets exist, UUIDs parse before they
// become paths).
package backend
