//go:build !wasip1

package main

// cairnCall stands in for the host import outside wasip1 (the guest only runs as wasm).
func cairnCall(uint64) uint64 { return 0 }
