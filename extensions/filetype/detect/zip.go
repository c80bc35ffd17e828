package detect

import (
	"bytes"
	"encoding/binary"
	"path"
	"strings"
	"sync"
)

// Bounds on what telling ZIP-based formats apart reads.
const (
	zipTail       = 64 << 10 // the end of the file searched for the end of central directory
	zipMaxCentral = 64 << 10 // central directory bytes read
	zipMaxEntries = 4096
)

var zipPool = sync.Pool{New: func() any { b := make([]byte, zipTail+22); return &b }}

// zipContents is what zipRefine learnt about a ZIP file.
type zipContents struct {
	names    []string
	set      map[string]bool
	mimetype string // content of a stored "mimetype" member
}

// zipRefine tells which ZIP-based format a ZIP file is, from its member
// names and its "mimetype" member, or nil for a plain ZIP.
// known is false when no member name could be read.
func (d *Detector) zipRefine(s *source) (t *fileType, known bool) {
	if len(d.zips) == 0 {
		return nil, false
	}
	z := zipContents{set: map[string]bool{}}
	z.scanLocal(s.hdr)
	z.scanCentral(s)
	var best *fileType
	bestN := -1
	for _, t := range d.zips {
		n, ok := z.matches(t.Zip)
		if ok && (best == nil || t.Priority > best.Priority || t.Priority == best.Priority && n > bestN) {
			best, bestN = t, n
		}
	}
	return best, len(z.names) > 0
}

// matches tells whether the rule identifies z, and how many members it named.
func (z *zipContents) matches(r *ZipRule) (int, bool) {
	if r.Mimetype != "" && z.mimetype != r.Mimetype {
		return 0, false
	}
	for _, m := range r.Members {
		if !z.has(m) {
			return 0, false
		}
	}
	return len(r.Members), true
}

func (z *zipContents) has(m string) bool {
	glob := strings.ContainsAny(m, "*?[")
	if !glob && !strings.HasSuffix(m, "/") {
		return z.set[m]
	}
	for _, n := range z.names {
		if glob {
			if ok, _ := path.Match(m, n); ok {
				return true
			}
		} else if strings.HasPrefix(n, m) {
			return true
		}
	}
	return false
}

func (z *zipContents) add(name string) {
	if len(z.names) >= zipMaxEntries || z.set[name] {
		return
	}
	z.names = append(z.names, name)
	z.set[name] = true
}

// scanLocal walks the local file headers that lie in the header bytes.
func (z *zipContents) scanLocal(b []byte) {
	for off := 0; off+30 <= len(b) && len(z.names) < zipMaxEntries; {
		h := b[off:]
		if !bytes.HasPrefix(h, []byte("PK\x03\x04")) {
			return
		}
		flags := binary.LittleEndian.Uint16(h[6:])
		method := binary.LittleEndian.Uint16(h[8:])
		csize := int(binary.LittleEndian.Uint32(h[18:]))
		nlen := int(binary.LittleEndian.Uint16(h[26:]))
		xlen := int(binary.LittleEndian.Uint16(h[28:]))
		if 30+nlen > len(h) {
			return
		}
		name := string(h[30 : 30+nlen])
		z.add(name)
		data := 30 + nlen + xlen
		if name == "mimetype" && method == 0 {
			if flags&8 != 0 && data <= len(h) { // sizes in a data descriptor: up to the next signature
				rest := h[data:min(len(h), data+256)]
				if end := bytes.Index(rest, []byte("PK")); end >= 0 {
					z.mimetype = strings.TrimSpace(string(rest[:end]))
				}
			} else if csize <= 256 && data+csize <= len(h) {
				z.mimetype = strings.TrimSpace(string(h[data : data+csize]))
			}
		}
		if flags&8 != 0 || csize < 0 { // sizes follow the data: cannot skip it
			return
		}
		off += data + csize
	}
}

// scanCentral reads the member names of the central directory, within the
// bounds above.
func (z *zipContents) scanCentral(s *source) {
	bp := zipPool.Get().(*[]byte)
	defer zipPool.Put(bp)
	tailLen := min(s.size, int64(len(*bp)))
	tailOff := s.size - tailLen
	tail := (*bp)[:tailLen]
	if k, _ := s.r.ReadAt(tail, tailOff); int64(k) != tailLen {
		return
	}
	i := bytes.LastIndex(tail, []byte("PK\x05\x06"))
	if i < 0 || i+22 > len(tail) {
		return
	}
	eocd := tail[i:]
	cdSize := int64(binary.LittleEndian.Uint32(eocd[12:]))
	cdOff := int64(binary.LittleEndian.Uint32(eocd[16:]))
	if cdOff == 0xFFFFFFFF || cdOff >= s.size {
		return // ZIP64 or damaged: the local headers must do
	}
	cdLen := min(cdSize, zipMaxCentral, s.size-cdOff)
	var cd []byte
	if cdOff >= tailOff && cdOff+cdLen <= s.size {
		cd = tail[cdOff-tailOff : cdOff-tailOff+cdLen]
	} else {
		cd = make([]byte, cdLen)
		if k, _ := s.r.ReadAt(cd, cdOff); int64(k) != cdLen {
			cd = cd[:k]
		}
	}
	for off := 0; off+46 <= len(cd) && len(z.names) < zipMaxEntries; {
		h := cd[off:]
		if !bytes.HasPrefix(h, []byte("PK\x01\x02")) {
			return
		}
		nlen := int(binary.LittleEndian.Uint16(h[28:]))
		xlen := int(binary.LittleEndian.Uint16(h[30:]))
		clen := int(binary.LittleEndian.Uint16(h[32:]))
		if 46+nlen > len(h) {
			return
		}
		z.add(string(h[46 : 46+nlen]))
		off += 46 + nlen + xlen + clen
	}
}
