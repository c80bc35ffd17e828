//go:build !wasip1

package main

import "github.com/cairnfs/cairn/sdk/pdk"

// hostTransform stands in for the host function outside wasip1, where the pdk
// runs against its in-process fake kernel. Like the test host, it answers
// "host:" followed by the payload reversed.
func hostTransform(payload uint64) uint64 {
	in := pdk.FindMemory(payload).ReadBytes()
	out := append([]byte("host:"), in...)
	for i, j := 5, len(out)-1; i < j; i, j = i+1, j-1 {
		out[i], out[j] = out[j], out[i]
	}
	return pdk.AllocateBytes(out).Offset()
}
