package pdk

import (
	"encoding/binary"
	"unsafe"

	"github.com/cairnfs/cairn/sdk/pdk/internal/abi"
)

// Memory is a block of the Extism kernel's memory: an offset and a length.
// Kernel memory is separate from the guest's own memory; bytes move between
// them only by copying (Load, Store), one host call per 8 bytes (roughly
// 90 MiB/s per direction under go-sdk). The host resets kernel memory at the
// start of each call, so a Memory is valid only during the export call that
// made or received it. The zero Memory is empty.
type Memory struct {
	offset uint64
	length uint64
}

// Allocate reserves n bytes of kernel memory. Allocate(0) returns the zero
// Memory. It panics when the kernel cannot grow (the Export wrapper turns the
// panic into the call's error).
func Allocate(n int) Memory {
	if n <= 0 {
		return Memory{}
	}
	off := abi.Alloc(uint64(n))
	if off == 0 {
		panic("pdk: kernel memory allocation failed")
	}
	return Memory{offset: off, length: uint64(n)}
}

// AllocateBytes copies data into a new block of kernel memory.
func AllocateBytes(data []byte) Memory {
	m := Allocate(len(data))
	store(m.offset, data)
	return m
}

// AllocateString copies s into a new block of kernel memory.
func AllocateString(s string) Memory {
	m := Allocate(len(s))
	storeString(m.offset, s)
	return m
}

// FindMemory returns the active block that starts at offset, as received
// from a host function; the zero Memory when there is none. It costs one
// host call that walks the kernel's block list.
func FindMemory(offset uint64) Memory {
	if offset == 0 {
		return Memory{}
	}
	n := abi.Length(offset)
	if n == 0 {
		return Memory{}
	}
	return Memory{offset: offset, length: n}
}

// Offset returns the block's offset in kernel memory (0 for an empty block):
// the value to pass to a host function.
func (m Memory) Offset() uint64 { return m.offset }

// Length returns the block's length in bytes.
func (m Memory) Length() uint64 { return m.length }

// Load copies the block's bytes into dst, up to the shorter of the two.
func (m Memory) Load(dst []byte) {
	if uint64(len(dst)) > m.length {
		dst = dst[:m.length]
	}
	load(m.offset, dst)
}

// Store copies src into the block, up to the shorter of the two.
func (m Memory) Store(src []byte) {
	if uint64(len(src)) > m.length {
		src = src[:m.length]
	}
	store(m.offset, src)
}

// ReadBytes returns a copy of the block's bytes.
func (m Memory) ReadBytes() []byte {
	b := make([]byte, m.length)
	load(m.offset, b)
	return b
}

// Free releases the block. Freeing the zero Memory is a no-op, and so is
// freeing a block twice, unless it was allocated again in between.
func (m Memory) Free() {
	if m.offset != 0 {
		abi.Free(m.offset)
	}
}

// Copying: go-sdk serves load_u64, store_u64 and input_load_u64 in Go
// (~0.1 µs a call), but every other kernel function, the u8 ones included,
// through a call into the kernel module (~25 µs a call, measured). So the
// copies below never use the u8 functions: a length that is not a multiple
// of 8 ends with one 8-byte access that overlaps the previous chunk, and a
// block shorter than 8 bytes is read (and for a store, written back) as 8
// bytes. That touches up to 7 bytes past the block, which is in bounds: the
// kernel never places a block within 8 bytes of the end of its memory (the
// go-sdk v1.7 kernel keeps its allocator 15 pages short of its 16-page
// minimum memory), and the bytes written back are the ones just read, in a
// single-threaded instance.

// load copies len(dst) bytes from kernel offset off.
func load(off uint64, dst []byte) {
	n := len(dst)
	switch {
	case n == 0:
	case n < 8:
		var b [8]byte
		binary.LittleEndian.PutUint64(b[:], abi.LoadU64(off))
		copy(dst, b[:n])
	default:
		for i := 0; i+8 <= n; i += 8 {
			binary.LittleEndian.PutUint64(dst[i:], abi.LoadU64(off+uint64(i)))
		}
		if n%8 != 0 {
			binary.LittleEndian.PutUint64(dst[n-8:], abi.LoadU64(off+uint64(n-8)))
		}
	}
}

// store copies src to kernel offset off.
func store(off uint64, src []byte) {
	n := len(src)
	switch {
	case n == 0:
	case n < 8:
		var b [8]byte
		binary.LittleEndian.PutUint64(b[:], abi.LoadU64(off))
		copy(b[:], src)
		abi.StoreU64(off, binary.LittleEndian.Uint64(b[:]))
	default:
		for i := 0; i+8 <= n; i += 8 {
			abi.StoreU64(off+uint64(i), binary.LittleEndian.Uint64(src[i:]))
		}
		if n%8 != 0 {
			abi.StoreU64(off+uint64(n-8), binary.LittleEndian.Uint64(src[n-8:]))
		}
	}
}

// storeString is store for a string, without copying it to a []byte first.
// store only reads src, so viewing s as bytes is safe.
func storeString(off uint64, s string) {
	store(off, unsafe.Slice(unsafe.StringData(s), len(s)))
}

// loadInput copies the call's input into a new slice, with the same access
// pattern as load.
func loadInput() []byte {
	n := int(abi.InputLength())
	buf := make([]byte, n)
	switch {
	case n == 0:
	case n < 8:
		var b [8]byte
		binary.LittleEndian.PutUint64(b[:], abi.InputLoadU64(0))
		copy(buf, b[:n])
	default:
		for i := 0; i+8 <= n; i += 8 {
			binary.LittleEndian.PutUint64(buf[i:], abi.InputLoadU64(uint64(i)))
		}
		if n%8 != 0 {
			binary.LittleEndian.PutUint64(buf[n-8:], abi.InputLoadU64(uint64(n-8)))
		}
	}
	return buf
}
