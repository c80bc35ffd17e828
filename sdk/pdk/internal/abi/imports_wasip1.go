//go:build wasip1

package abi

// Signatures match the extism:host/env module defined by
// github.com/extism/go-sdk v1.7.x (host.go, instantiateEnvModule) and the
// exports of its embedded extism-runtime.wasm kernel: i64 is uint64, i32 is
// uint32/int32. Imports the program never calls are dropped by the linker, so
// declaring one here costs nothing.

// Alloc reserves n bytes in kernel memory. It returns 0 when n is 0 or when
// memory cannot grow.
//
//go:wasmimport extism:host/env alloc
func Alloc(n uint64) Ptr

// Free releases a block returned by Alloc. Freeing 0, an unknown offset or an
// already free block is a no-op.
//
//go:wasmimport extism:host/env free
func Free(p Ptr)

// Length returns the used length of the active block at p, or 0 when p is not
// the start of an active block. It walks the block list (O(blocks)).
//
//go:wasmimport extism:host/env length
func Length(p Ptr) uint64

// LengthUnsafe is Length in O(1), for offsets known to be block starts.
//
//go:wasmimport extism:host/env length_unsafe
func LengthUnsafe(p Ptr) uint64

//go:wasmimport extism:host/env load_u8
func loadU8(p Ptr) uint32

// LoadU8 reads the byte at p.
func LoadU8(p Ptr) byte { return byte(loadU8(p)) }

// LoadU64 reads 8 bytes at p, little-endian. p needs no alignment.
//
//go:wasmimport extism:host/env load_u64
func LoadU64(p Ptr) uint64

//go:wasmimport extism:host/env store_u8
func storeU8(p Ptr, v uint32)

// StoreU8 writes the byte v at p.
func StoreU8(p Ptr, v byte) { storeU8(p, uint32(v)) }

// StoreU64 writes v at p as 8 little-endian bytes. p needs no alignment.
//
//go:wasmimport extism:host/env store_u64
func StoreU64(p Ptr, v uint64)

// InputLength returns the length of the current call's input.
//
//go:wasmimport extism:host/env input_length
func InputLength() uint64

//go:wasmimport extism:host/env input_load_u8
func inputLoadU8(off uint64) uint32

// InputLoadU8 reads the input byte at offset off (relative to the input).
func InputLoadU8(off uint64) byte { return byte(inputLoadU8(off)) }

// InputLoadU64 reads 8 input bytes at offset off (relative to the input).
//
//go:wasmimport extism:host/env input_load_u64
func InputLoadU64(off uint64) uint64

// OutputSet makes the block at p (n bytes) the call's output. The block must
// stay allocated: the host reads it after the export returns.
//
//go:wasmimport extism:host/env output_set
func OutputSet(p Ptr, n uint64)

// ErrorSet makes the block at p the call's error message. The host reports it
// as the call's error after the export returns; the block must stay allocated.
//
//go:wasmimport extism:host/env error_set
func ErrorSet(p Ptr)

// ConfigGet returns a new block holding the manifest config value named by
// the block at key, or 0 when unset (or empty). go-sdk does not free key.
//
//go:wasmimport extism:host/env config_get
func ConfigGet(key Ptr) Ptr

// VarGet returns a new block holding the plugin variable named by the block
// at key, or 0 when unset. go-sdk frees key.
//
//go:wasmimport extism:host/env var_get
func VarGet(key Ptr) Ptr

// VarSet stores the block at value as the variable named by the block at key;
// value 0 deletes it. go-sdk frees both blocks, and traps when the host's
// variable store is full or disabled.
//
//go:wasmimport extism:host/env var_set
func VarSet(key, value Ptr)

// LogTrace … LogError log the string in the block at msg. go-sdk frees msg.
//
//go:wasmimport extism:host/env log_trace
func LogTrace(msg Ptr)

//go:wasmimport extism:host/env log_debug
func LogDebug(msg Ptr)

//go:wasmimport extism:host/env log_info
func LogInfo(msg Ptr)

//go:wasmimport extism:host/env log_warn
func LogWarn(msg Ptr)

//go:wasmimport extism:host/env log_error
func LogError(msg Ptr)

// GetLogLevel returns the host's minimum log level (LevelTrace … LevelError),
// or a larger value when logging is off.
//
//go:wasmimport extism:host/env get_log_level
func GetLogLevel() int32

// HTTPRequest performs the request described by the JSON block at req
// ({"url","method","headers"}) with the body block at body (0 for none) and
// returns the response body block (0 when empty). go-sdk frees req and body,
// and traps (killing the instance) when the host is not in AllowedHosts.
//
//go:wasmimport extism:host/env http_request
func HTTPRequest(req, body Ptr) Ptr

// HTTPStatusCode returns the status code of the last HTTPRequest.
//
//go:wasmimport extism:host/env http_status_code
func HTTPStatusCode() int32

// HTTPHeaders returns a JSON block of the last response's headers, or 0 when
// the host did not enable response headers.
//
//go:wasmimport extism:host/env http_headers
func HTTPHeaders() Ptr
