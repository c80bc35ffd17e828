// Package abi implements the host side of the Cairn host ABI v1 (schemas/hostabi/v1.md): the
// Request/Response messages, the error codes, and a Dispatcher that checks every call and hands
// it to a Backend.
//
// The Dispatcher is transport-independent: host/wasm wires it to the WASM import
// `cairn:host/v1` `call` (kernel-memory offsets in and out), and the go-plugin host will wire the
// same Dispatcher.Handle to its gRPC Host/Call, so both kinds of extension get identical checks
// and answers.
//
// # The order of checks on every call
//
//  1. the request decodes (else invalid_argument) and is within the size limit;
//  2. the caller's token bucket has a token (else limit_exceeded);
//  3. fn is known (else unknown_function);
//  4. the capability fn needs is effective for the caller (else capability_denied);
//  5. the arguments decode and validate (else invalid_argument);
//  6. the arguments are inside the capability's scope (locations and globs, sidecar kinds, event
//     types; else capability_denied), and results are filtered by the scope again after the
//     backend answered, so a backend bug cannot widen it;
//  7. the backend runs it.
//
// Every capability_denied increments the caller's and the dispatcher's denial counters. The first
// denial of each function and reason writes an audit record (actor = extension id, action =
// "hostcall <fn>", outcome = "denied", detail = the denial and the arguments' scope, each cut to
// 256 bytes); repeats are counted and written as one record per reason at unload (FlushAudit),
// and past Quotas.AuditRows reasons they are counted together, so denied calls cannot fill the
// disk.
//
// # Quotas
//
// Quotas bound, per extension and run, what it can make the host write whatever it was
// granted: audit rows, log bytes per call and per run, denied calls per call (past it the
// export call is a fault: Caller.BeginCall is the ext.Meter that tells ext) and per run (past it
// every call is refused and the extension disabled), the bytes of its kv store and of the
// metadata it writes. A call's own usage travels in its context (BeginCall), so concurrent
// calls are measured apart.
//
// # Backends
//
// Backends groups one small interface per area (KV, Entries, Content, Metadata, Sidecars, Tags,
// Events, Actions, Audit); an area left nil answers `unavailable`. host/backend implements all of
// them on the kernel's SQLite store. Job progress and checkpoints go to the Job attached to the
// call's context with WithJob, since they belong to the job running the call.
package abi
