package detect

import "encoding/binary"

// elfHasInterp tells whether an ELF file's program headers, read from the
// header bytes, include PT_INTERP: a shared object with an interpreter is a
// position-independent executable (file(1): application/x-pie-executable).
func elfHasInterp(h []byte) bool {
	if len(h) < 64 {
		return false
	}
	var bo binary.ByteOrder = binary.LittleEndian
	if h[5] == 2 {
		bo = binary.BigEndian
	}
	var phoff uint64
	var entsize, num int
	switch h[4] {
	case 1:
		phoff = uint64(bo.Uint32(h[28:]))
		entsize, num = int(bo.Uint16(h[42:])), int(bo.Uint16(h[44:]))
	case 2:
		phoff = bo.Uint64(h[32:])
		entsize, num = int(bo.Uint16(h[54:])), int(bo.Uint16(h[56:]))
	default:
		return false
	}
	if entsize < 4 || phoff >= uint64(len(h)) {
		return false
	}
	for i := 0; i < num && i < 64; i++ {
		off := phoff + uint64(i*entsize)
		if off+4 > uint64(len(h)) {
			return false
		}
		if bo.Uint32(h[off:]) == 3 { // PT_INTERP
			return true
		}
	}
	return false
}
