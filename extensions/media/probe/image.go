package probe

import (
	"fmt"
)

// probeJPEG walks the JPEG's marker segments up to the start of scan: APP1
// Exif for the metadata, SOFn for the dimensions.
func probeJPEG(s *src, info *Info) error {
	pos := int64(2)
	sof := false
	for n := 0; n < maxBoxes; n++ {
		h, err := s.readUpTo(pos, 4)
		if err == nil && len(h) < 2 {
			err = malformed("file ends at offset %d, before the end-of-image marker", pos)
		}
		if err != nil {
			if sof {
				return nil
			}
			return fmt.Errorf("reading the marker at offset %d: %w", pos, err)
		}
		if h[0] != 0xFF {
			return malformed("no JPEG marker at offset %d (0x%02X)", pos, h[0])
		}
		m := h[1]
		switch {
		case m == 0xFF: // fill byte
			pos++
			continue
		case m == 0xD8 || m == 0x01 || (m >= 0xD0 && m <= 0xD7): // no length
			pos += 2
			continue
		case m == 0xDA || m == 0xD9: // start of scan, end of image
			if !sof {
				return malformed("no frame header (SOFn) before the %s", map[bool]string{true: "scan", false: "end of image"}[m == 0xDA])
			}
			return nil
		}
		if len(h) < 4 {
			if sof {
				return nil
			}
			return malformed("segment 0x%02X at offset %d is truncated", m, pos)
		}
		length := int64(be16(h[2:]))
		if length < 2 {
			return malformed("segment 0x%02X at offset %d has length %d", m, pos, length)
		}
		data := pos + 4
		switch {
		case m == 0xE1 && !hasEXIF(info) && length > 8:
			// APP1 is Exif or XMP: read the body only when it is Exif.
			if sig, _ := s.readUpTo(data, 6); string(sig) == "Exif\x00\x00" {
				b, err := s.read(data+6, length-8)
				if err != nil {
					return fmt.Errorf("reading APP1 Exif at offset %d: %w", pos, err)
				}
				parseEXIF(b, info)
			}
		case m >= 0xC0 && m <= 0xCF && m != 0xC4 && m != 0xC8 && m != 0xCC:
			b, err := s.read(data, 6)
			if err != nil || length < 8 {
				return malformed("frame header (SOF%d) at offset %d is truncated", m-0xC0, pos)
			}
			info.BitDepth = int(b[0])
			info.Width, info.Height = int(be16(b[3:])), int(be16(b[1:]))
			sof = true
		}
		pos = data + length - 2
	}
	return malformed("more than %d segments before the image data", maxBoxes)
}

// hasEXIF reports whether an EXIF block was already read.
func hasEXIF(info *Info) bool {
	return info.CameraMake != "" || info.CameraModel != "" || info.TakenAt != "" || info.Orientation != 0 || info.GPS != nil
}

// probePNG reads IHDR and an eXIf chunk.
func probePNG(s *src, info *Info) error {
	pos := int64(8)
	for n := 0; n < maxBoxes; n++ {
		h, err := s.read(pos, 8)
		if err != nil {
			if n > 0 {
				return nil // truncated after IHDR: what we have
			}
			return fmt.Errorf("reading the chunk at offset %d: %w", pos, err)
		}
		length, typ := int64(be32(h)), string(h[4:8])
		if length > 1<<31-1 {
			return malformed("chunk %q at offset %d has length %d", typ, pos, length)
		}
		if n == 0 {
			if typ != "IHDR" || length < 13 {
				return malformed("first chunk is %q (length %d), not IHDR", typ, length)
			}
			b, err := s.read(pos+8, 13)
			if err != nil {
				return fmt.Errorf("reading IHDR: %w", err)
			}
			info.Width, info.Height, info.BitDepth = int(be32(b)), int(be32(b[4:])), int(b[8])
			if info.Width == 0 || info.Height == 0 {
				return malformed("IHDR gives dimensions %d×%d", info.Width, info.Height)
			}
		}
		switch typ {
		case "eXIf", "exIf":
			if hasEXIF(info) {
				break
			}
			b, err := s.read(pos+8, length)
			if err != nil {
				return fmt.Errorf("reading eXIf at offset %d: %w", pos, err)
			}
			parseEXIF(b, info)
		case "IEND":
			return nil
		}
		pos += 12 + length
	}
	return nil
}

// probeGIF reads the logical screen size.
func probeGIF(s *src, info *Info) error {
	b, err := s.read(0, 10)
	if err != nil {
		return fmt.Errorf("reading the screen descriptor: %w", err)
	}
	info.Width, info.Height = int(le16(b[6:])), int(le16(b[8:]))
	return nil
}

// probeWebP walks the RIFF chunks: VP8X (canvas), VP8 and VP8L (bitstream
// headers), EXIF.
func probeWebP(s *src, info *Info) error {
	end := s.size
	if h, err := s.read(4, 4); err == nil && int64(le32(h))+8 < end {
		end = int64(le32(h)) + 8
	}
	pos := int64(12)
	found := false
	for n := 0; n < maxBoxes && pos+8 <= end; n++ {
		h, err := s.read(pos, 8)
		if err != nil {
			return fmt.Errorf("reading the chunk at offset %d: %w", pos, err)
		}
		typ, length := string(h[:4]), int64(le32(h[4:]))
		data := pos + 8
		switch typ {
		case "VP8X":
			b, err := s.read(data, 10)
			if err != nil {
				return fmt.Errorf("reading VP8X: %w", err)
			}
			info.Width, info.Height = int(le32(append(b[4:7:7], 0)))+1, int(le32(append(b[7:10:10], 0)))+1
			found = true
		case "VP8 ":
			b, err := s.read(data, 10)
			if err != nil {
				return fmt.Errorf("reading VP8 frame header: %w", err)
			}
			if b[3] != 0x9d || b[4] != 0x01 || b[5] != 0x2a {
				return malformed("VP8 frame at offset %d lacks its start code", data)
			}
			info.setDims(int(le16(b[6:])&0x3fff), int(le16(b[8:])&0x3fff))
			found = true
		case "VP8L":
			b, err := s.read(data, 5)
			if err != nil {
				return fmt.Errorf("reading VP8L header: %w", err)
			}
			if b[0] != 0x2f {
				return malformed("VP8L chunk at offset %d lacks its signature", data)
			}
			bits := le32(b[1:])
			info.setDims(int(bits&0x3fff)+1, int(bits>>14&0x3fff)+1)
			found = true
		case "EXIF":
			if hasEXIF(info) {
				break
			}
			b, err := s.read(data, length)
			if err != nil {
				return fmt.Errorf("reading EXIF chunk: %w", err)
			}
			parseEXIF(b, info)
		}
		pos = data + length + length&1
	}
	if !found {
		return malformed("no VP8, VP8L or VP8X chunk")
	}
	return nil
}

// validBMPHeader reports whether n is the size of a known BMP DIB header.
func validBMPHeader(n uint32) bool {
	switch n {
	case 12, 16, 40, 52, 56, 64, 108, 124:
		return true
	}
	return false
}

// probeBMP reads the DIB header.
func probeBMP(s *src, info *Info) error {
	b, err := s.read(14, 16)
	if err != nil {
		return fmt.Errorf("reading the DIB header: %w", err)
	}
	if le32(b) == 12 {
		info.Width, info.Height = int(le16(b[4:])), int(le16(b[6:]))
		return nil
	}
	w, h := int32(le32(b[4:])), int32(le32(b[8:]))
	if h < 0 {
		h = -h
	}
	if w <= 0 || h <= 0 {
		return malformed("DIB header gives dimensions %d×%d", w, h)
	}
	info.Width, info.Height = int(w), int(h)
	return nil
}
