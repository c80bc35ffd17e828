//go:build wasip1

package cairn

import "github.com/cairnfs/cairn/sdk/pdk"

// hostCall is the single host function of ABI v1. request is the kernel
// offset of a JSON Request; the result is the kernel offset of a JSON
// Response the host allocated. The linker keeps this import only in modules
// that make host calls; every Cairn host (and exttest) defines it.
//
//go:wasmimport cairn:host/v1 call
func hostCall(request uint64) uint64

// transport copies req into kernel memory, calls the host, and returns a copy
// of the response, freeing both blocks (pdk.CallHost).
func transport(req []byte) []byte { return pdk.CallHost(hostCall, req) }
