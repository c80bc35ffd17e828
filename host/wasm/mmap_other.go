//go:build !linux

package wasm

// reserve is unavailable here: linear memories are Go slices.
func reserve(uint64) []byte { return nil }

func discard([]byte) {}

func unreserve([]byte) {}
