//go:build wasip1

package main

// cairnCall is the host ABI's one import.
//
//go:wasmimport cairn:host/v1 call
func cairnCall(request uint64) uint64
