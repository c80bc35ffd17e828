// Package cairn is the typed guest API for Cairn WASM extensions: the host ABI
// v1 (cairn:host/v1, schemas/hostabi/v1.md) as Go functions, and handlers
// that turn the host's JSON calls into Go values, built on sdk/pdk.
//
// # An extension
//
// A stage that counts bytes, and the one-line export that serves it
// (wasmexport names must be literal, so each export is a wrapper around Run):
//
//	package main
//
//	import (
//		"io"
//
//		"github.com/cairnfs/cairn/sdk/cairn"
//	)
//
//	func main() {} // required, never called
//
//	var sizes = cairn.StageEach("stage.sizes", func(ctx cairn.Ctx, it cairn.Item) (any, error) {
//		f, err := it.Open() // Item.Path, inside the read-only /data mount
//		if err != nil {
//			return nil, err
//		}
//		defer f.Close()
//		n, err := io.Copy(io.Discard, f)
//		if err != nil {
//			return nil, err
//		}
//		return map[string]int64{"bytes": n}, cairn.SetMetadata(it.Target(), "bytes", n)
//	})
//
//	//go:wasmexport stage_sizes
//	func stageSizes() int32 { return cairn.Run(sizes) }
//
// with, in cairn.toml, the stage and the capabilities its calls need:
//
//	[capabilities]
//	"content.read" = {}
//	"metadata.write" = {}
//
//	[[contributes.stages]]
//	id = "stage.sizes"
//	export = "stage_sizes"
//	version = 1
//
// Build it with GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared and test
// it with sdk/exttest.
//
// # Handlers
//
// Stage (or StageEach), Sidecar, Loader, Query and Init register a handler
// under its namespaced id (duplicates panic at start-up) and return it for
// Run. Handlers decode the host's input, reject a call meant for another
// stage or sidecar kind, and check the output's shape: one Outcome per Item,
// in order. Run recovers panics into the call's error and keeps the guest's
// garbage collector running (see pdk.Export).
//
// # Host calls
//
// Log, Config, KVGet, KVSet, KVDelete, KVList (and the KVKeys iterator),
// QueryEntries (a paged iterator) and QueryEntriesPage, ReadContent (and
// ContentReader), SetType, SetMetadata, WriteSidecar, ApplyTag, Emit,
// PollEvents, Progress, Checkpoint, ProposeAction and HTTP (ABI 1.2: the
// host makes the request, checking every redirect against net) each make one
// call of the import
//
//	//go:wasmimport cairn:host/v1 call
//
// with a {"fn","args"} request in Extism kernel memory and read back an
// {"ok"} or {"error"} response. Failures are *Error values with the host's
// code: branch with IsDenied, IsNotFound, IsInvalidArgument,
// IsLimitExceeded, IsUnavailable, IsUnknownFunction, or errors.Is with the
// Err* sentinels. A call costs ~0.1 ms under go-sdk (mostly the kernel's
// allocator), so keep them few per file; and read file bytes from
// Item.Path, not through ReadContent.
//
// Only modules that make host calls import cairn:host/v1 call; every Cairn
// host defines it.
//
// # Native builds
//
// On every platform but wasip1 the package compiles and runs natively: host
// calls go to the function installed with SetHost (exttest.Fake is an
// in-memory host that enforces a manifest's capabilities), so handlers can
// be unit-tested with go test, either as plain Go functions or through their
// Handle method with the exact JSON the host sends.
package cairn
