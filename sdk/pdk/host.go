package pdk

// CallHost calls a host function that follows the Extism byte-payload
// convention: it takes the kernel offset of its input block and returns the
// kernel offset of a new output block (0 for an empty output). CallHost copies
// payload into kernel memory, calls fn, and returns a copy of the output; an
// empty output is nil. It frees both blocks, after reading the output, so a
// host function may free its input or not, but must not keep any other
// allocation at the input's offset.
//
// fn is normally a function imported from the host, declared in a file built
// only for wasip1:
//
//	//go:build wasip1
//
//	package myext
//
//	//go:wasmimport extism:host/user cairn_log
//	func cairnLog(payload uint64) uint64
//
// and called as pdk.CallHost(cairnLog, payload). The host defines it with
// go-sdk's extism.NewHostFunctionWithStack(name, cb, []ValueType{ValueTypePTR},
// []ValueType{ValueTypePTR}), reading stack[0] with CurrentPlugin.ReadBytes and
// writing the result offset from CurrentPlugin.WriteBytes to stack[0].
//
// Report host-side failures inside the output payload: a host function that
// panics aborts the guest mid-call, and the instance must then be replaced.
func CallHost(fn func(uint64) uint64, payload []byte) []byte {
	in := AllocateBytes(payload)
	out := readHostResult(fn(in.offset))
	in.Free()
	return out
}
