// Package abi is the Extism kernel ABI (the "extism:host/env" import module)
// as plain Go functions.
//
// Under GOOS=wasip1 every function is a //go:wasmimport of the host's
// extism:host/env module. On every other platform the same functions run
// against an in-process fake kernel (fake.go), so packages built on this one
// compile, vet and unit-test natively.
//
// All "pointers" (Ptr) are offsets into the kernel's linear memory, which is a
// separate wasm memory from the guest's: bytes move only through the
// load/store functions. Offset 0 means "none" (allocation failure, unset value
// or empty block).
package abi

// Ptr is an offset into the Extism kernel's memory (a wasm i64).
type Ptr = uint64

// Log levels as returned by GetLogLevel (the Extism-compatible numbering:
// trace 0 … error 4; anything larger means logging is off).
const (
	LevelTrace int32 = 0
	LevelDebug int32 = 1
	LevelInfo  int32 = 2
	LevelWarn  int32 = 3
	LevelError int32 = 4
)
