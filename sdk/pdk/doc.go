// Package pdk is a plugin development kit for Extism guests written in
// standard Go (GOOS=wasip1, go:wasmimport/go:wasmexport), with no dependency
// on github.com/extism/go-pdk or TinyGo. It is the lowest layer of Cairn's
// extension SDK.
//
// # Building
//
// A guest is a main package with an empty main, built as a WASI reactor:
//
//	GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -o ext.wasm .
//
// The host must enable WASI (go-sdk: PluginConfig.EnableWasi), which imports
// wasi_snapshot_preview1 and runs the module's _initialize before the first
// call. A small guest using this package is ~2.3 MB (1.9 MB of it the Go
// runtime, ~0.4 MB encoding/json, which the JSON helpers import); the
// example in sdk/examples/countvowels is ~3.4 MB.
//
// # Exports
//
// An export takes no arguments and returns an int32 result code, 0 for
// success. Always write it as a one-line call to Export:
//
//	//go:wasmexport greet
//	func greet() int32 {
//		return pdk.Export(func() error {
//			pdk.OutputString("hello, " + pdk.InputString())
//			return nil
//		})
//	}
//
// Export recovers panics into the call's error (the instance stays usable)
// and yields to the Go scheduler before returning, without which the guest's
// garbage collector starves and its memory grows without bound. See Export.
//
// # ABI surface
//
// The package imports these functions from the host module extism:host/env
// (i64 offsets into the kernel's memory; signatures as in go-sdk v1.7):
//
//	alloc(n i64) i64                     free(p i64)
//	length(p i64) i64                    length_unsafe(p i64) i64
//	load_u8(p i64) i32                   load_u64(p i64) i64
//	store_u8(p i64, v i32)               store_u64(p i64, v i64)
//	input_length() i64                   input_load_u8(i i64) i32
//	input_load_u64(i i64) i64            output_set(p i64, n i64)
//	error_set(p i64)                     config_get(key i64) i64
//	var_get(key i64) i64                 var_set(key i64, value i64)
//	log_trace/debug/info/warn/error(p i64)   get_log_level() i32
//	http_request(req i64, body i64) i64  http_status_code() i32
//	http_headers() i64
//
// The Go linker keeps only the imports a guest actually reaches, so a guest
// that never logs does not import log_*. Every import a module keeps must be
// defined by the host at instantiation, called or not.
//
// # Kernel memory
//
// Input, output, errors, config values, variables and host-function payloads
// live in the Extism kernel's memory, a wasm memory separate from the guest's,
// and are copied in and out through load_u64/store_u64 (see Memory for costs).
// The host resets kernel memory at the start of every call, so nothing
// allocated there outlives a call. Ownership follows go-sdk: var_get, var_set,
// log_* and http_request free their argument blocks; config_get does not,
// and the PDK frees that key; output and error blocks are left for the host
// to read; blocks returned by the host are copied and freed.
//
// # Host functions
//
// Host functions beyond the Extism ones are imported from the host module
// extism:host/user (go-sdk's default namespace for NewHostFunctionWithStack)
// or any namespace the host chooses. CallHost calls one that takes a payload
// offset and returns a result offset, which is the shape the Cairn host ABI
// (cairn:host/v1) builds on. Declarations with //go:wasmimport have no body,
// so put them in a file built only for wasip1 and give other platforms a
// stand-in (see sdk/examples/countvowels/host_*.go).
//
// # Other platforms
//
// On every GOOS other than wasip1 the package runs against an in-process fake
// of the kernel and go-sdk's host functions, so guests compile, vet and
// unit-test natively. The fake is not safe for concurrent use.
//
// # Traps the PDK cannot handle
//
// The host must still:
//   - put a deadline on every call and run the module in a runtime with
//     wazero's WithCloseOnContextDone(true): a guest that never returns is
//     stopped only that way, and the instance is then closed;
//   - replace an instance after any trap: a runtime fatal error (out of
//     memory, stack exhaustion, a panic on another goroutine), a host function
//     that panicked, a denied HTTP host or a full variable store all abort the
//     module ("wasm error: unreachable" or "module closed");
//   - supply real clocks and randomness deliberately: by default time.Now
//     reads a fake clock (2022-01-01) and crypto/rand returns the same bytes
//     in every instance;
//   - pass writers for stdout/stderr if it wants them; guests should log with
//     Log instead.
package pdk
