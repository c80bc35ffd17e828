package thumb

import (
	"bytes"
	"encoding/binary"
	"io"
)

// Bounds of the orientation parser: it reads at most this much EXIF, walks
// at most this many segments or chunks, and never allocates more.
const (
	maxExif   = 64 << 10
	maxChunks = 4096
)

// Orientation returns the EXIF Orientation (1–8) of the image in r, whose
// format ("jpeg", "png", "webp" or "tiff") was sniffed; 1 when it has none,
// it is unreadable, or the format carries no EXIF. The parser reads only
// what it needs through r, with bounded reads.
func Orientation(r io.ReaderAt, size int64, format string) int {
	var exif []byte
	switch format {
	case "jpeg":
		exif = jpegExif(r, size)
	case "png":
		exif = pngExif(r, size)
	case "webp":
		exif = webpExif(r, size)
	case "tiff":
		return tiffOrientation(readerTIFF{r, size})
	}
	if exif == nil {
		return 1
	}
	exif = bytes.TrimPrefix(exif, []byte("Exif\x00\x00"))
	return tiffOrientation(readerTIFF{bytes.NewReader(exif), int64(len(exif))})
}

// readAt reads n bytes at off, or returns nil.
func readAt(r io.ReaderAt, off int64, n int) []byte {
	if off < 0 || n < 0 {
		return nil
	}
	b := make([]byte, n)
	if _, err := r.ReadAt(b, off); err != nil {
		return nil
	}
	return b
}

// jpegExif returns the payload of the first Exif APP1 segment before the
// image data.
func jpegExif(r io.ReaderAt, size int64) []byte {
	off := int64(2) // after SOI
	for i := 0; i < maxChunks && off+4 <= size; i++ {
		h := readAt(r, off, 4)
		if h == nil || h[0] != 0xFF {
			return nil
		}
		marker := h[1]
		switch {
		case marker == 0xFF: // fill byte
			off++
			continue
		case marker == 0xD8 || marker >= 0xD0 && marker <= 0xD7 || marker == 0x01:
			off += 2 // no length
			continue
		case marker == 0xDA || marker == 0xD9: // start of scan, end of image
			return nil
		}
		n := int64(binary.BigEndian.Uint16(h[2:]))
		if n < 2 {
			return nil
		}
		if marker == 0xE1 && n-2 >= 6 && n-2 <= maxExif {
			if p := readAt(r, off+4, int(n-2)); bytes.HasPrefix(p, []byte("Exif\x00\x00")) {
				return p
			}
		}
		off += 2 + n
	}
	return nil
}

// pngExif returns the data of the eXIf chunk.
func pngExif(r io.ReaderAt, size int64) []byte {
	off := int64(8)
	for i := 0; i < maxChunks && off+8 <= size; i++ {
		h := readAt(r, off, 8)
		if h == nil {
			return nil
		}
		n := int64(binary.BigEndian.Uint32(h))
		switch string(h[4:]) {
		case "eXIf":
			if n > maxExif {
				return nil
			}
			return readAt(r, off+8, int(n))
		case "IEND":
			return nil
		}
		off += 12 + n
	}
	return nil
}

// webpExif returns the data of the EXIF chunk of a RIFF WebP.
func webpExif(r io.ReaderAt, size int64) []byte {
	off := int64(12)
	for i := 0; i < maxChunks && off+8 <= size; i++ {
		h := readAt(r, off, 8)
		if h == nil {
			return nil
		}
		n := int64(binary.LittleEndian.Uint32(h[4:]))
		if string(h[:4]) == "EXIF" {
			if n > maxExif {
				return nil
			}
			return readAt(r, off+8, int(n))
		}
		off += 8 + n + n&1
	}
	return nil
}

// readerTIFF is a TIFF structure readable at offsets.
type readerTIFF struct {
	r    io.ReaderAt
	size int64
}

// tiffOrientation reads tag 0x0112 (Orientation, SHORT) of IFD0.
func tiffOrientation(t readerTIFF) int {
	h := readAt(t.r, 0, 8)
	if h == nil {
		return 1
	}
	var bo binary.ByteOrder
	switch string(h[:2]) {
	case "II":
		bo = binary.LittleEndian
	case "MM":
		bo = binary.BigEndian
	default:
		return 1
	}
	if bo.Uint16(h[2:]) != 42 {
		return 1
	}
	ifd := int64(bo.Uint32(h[4:]))
	c := readAt(t.r, ifd, 2)
	if c == nil {
		return 1
	}
	n := int64(bo.Uint16(c))
	if n == 0 || ifd+2+n*12 > t.size {
		return 1
	}
	entries := readAt(t.r, ifd+2, int(min(n, 1024)*12))
	for e := entries; len(e) >= 12; e = e[12:] {
		if bo.Uint16(e) != 0x0112 {
			continue
		}
		var v uint16
		switch bo.Uint16(e[2:]) {
		case 3: // SHORT: in the first two bytes of the value field
			v = bo.Uint16(e[8:])
		case 4: // LONG, from sloppy writers
			v = uint16(min(bo.Uint32(e[8:]), 0xFFFF))
		default:
			return 1
		}
		if v >= 1 && v <= 8 {
			return int(v)
		}
		return 1
	}
	return 1
}
