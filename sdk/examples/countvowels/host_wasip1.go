//go:build wasip1

package main

// hostTransform is a user host function. The host defines it in the
// extism:host/user module (go-sdk's default namespace for
// NewHostFunctionWithStack); it takes and returns kernel-memory offsets, as
// pdk.CallHost expects.
//
//go:wasmimport extism:host/user cairn_test_transform
func hostTransform(payload uint64) uint64
