package probe

import (
	"fmt"
	"math"
)

func float64frombits(b uint64) float64 { return math.Float64frombits(b) }

// heif is what a HEIF meta box says about its items.
type heif struct {
	primary uint32
	exif    []uint32          // items of type Exif
	props   []box             // ipco's properties, in order (index 1 is props[0])
	assoc   map[uint32][]int  // item → property indices, in order
	locs    map[uint32]extent // item → its first extent
	idat    box               // the idat box, for construction method 1
}

type extent struct {
	method      int
	off, length int64
}

// probeHEIF reads a HEIF (HEIC, AVIF) image's meta box: the primary item's
// ispe (dimensions), irot and imir (orientation), and its Exif item.
func probeHEIF(s *src, meta box, info *Info) error {
	h := &heif{assoc: map[uint32][]int{}, locs: map[uint32]extent{}}
	// meta is a full box: its children start after version and flags.
	err := walk(s, meta.start+4, meta.end, func(b box) error {
		switch b.typ {
		case "pitm":
			p, err := b.payload(s)
			if err != nil || len(p) < 6 {
				return malformed("pitm box of %d bytes", len(p))
			}
			if p[0] == 0 {
				h.primary = uint32(be16(p[4:]))
			} else if len(p) >= 8 {
				h.primary = be32(p[4:])
			}
		case "iinf":
			return h.readIinf(s, b)
		case "iloc":
			p, err := b.payload(s)
			if err != nil {
				return err
			}
			return h.readIloc(p)
		case "iprp":
			return walk(s, b.start, b.end, func(c box) error {
				switch c.typ {
				case "ipco":
					return walk(s, c.start, c.end, func(p box) error {
						h.props = append(h.props, p)
						return nil
					})
				case "ipma":
					p, err := c.payload(s)
					if err != nil {
						return err
					}
					return h.readIpma(p)
				}
				return nil
			})
		case "idat":
			h.idat = b
		}
		return nil
	})
	if err != nil {
		return err
	}
	if len(h.exif) > 0 {
		if b, err := h.itemData(s, h.exif[0]); err == nil && len(b) > 4 {
			if off := int64(be32(b)); off < int64(len(b))-4 {
				parseEXIF(b[4+off:], info)
			}
		}
	}
	m := orientations[1]
	transformed := false
	for _, i := range h.assoc[h.primary] {
		if i < 1 || i > len(h.props) {
			continue
		}
		p := h.props[i-1]
		switch p.typ {
		case "ispe":
			b, err := s.read(p.start, 12)
			if err != nil {
				return fmt.Errorf("reading ispe: %w", err)
			}
			info.Width, info.Height = int(be32(b[4:])), int(be32(b[8:]))
		case "irot":
			b, err := s.read(p.start, 1)
			if err != nil {
				return fmt.Errorf("reading irot: %w", err)
			}
			// Anticlockwise quarter turns: 1 is EXIF 8, 2 is 3, 3 is 6.
			m = compose(orientations[[4]int{1, 8, 3, 6}[b[0]&3]], m)
			transformed = true
		case "imir":
			b, err := s.read(p.start, 1)
			if err != nil {
				return fmt.Errorf("reading imir: %w", err)
			}
			// Axis 0 is vertical (left and right swap): EXIF 2; 1 is horizontal: 4.
			m = compose(orientations[[2]int{2, 4}[b[0]&1]], m)
			transformed = true
		case "pixi":
			if b, err := s.read(p.start, 6); err == nil && b[4] > 0 {
				info.BitDepth = int(b[5])
			}
		}
	}
	if transformed || info.Orientation == 0 {
		// The image's own transforms, not its EXIF, say how it displays.
		info.Orientation = orientationOf(m)
	}
	if info.Width == 0 || info.Height == 0 {
		return malformed("primary item %d has no image spatial extents (ispe)", h.primary)
	}
	return nil
}

func (h *heif) readIinf(s *src, b box) error {
	p, err := s.read(b.start, 4)
	if err != nil {
		return err
	}
	start := b.start + 6
	if p[0] != 0 {
		start = b.start + 8
	}
	return walk(s, start, b.end, func(e box) error {
		if e.typ != "infe" {
			return nil
		}
		p, err := s.readUpTo(e.start, 12)
		if err != nil || len(p) < 12 {
			return nil
		}
		var id uint32
		var typ string
		switch p[0] {
		case 2:
			id, typ = uint32(be16(p[4:])), string(p[8:12])
		case 3:
			if q, err := s.read(e.start, 14); err == nil {
				id, typ = be32(q[4:]), string(q[10:14])
			}
		default:
			return nil
		}
		if typ == "Exif" && len(h.exif) < 4 {
			h.exif = append(h.exif, id)
		}
		return nil
	})
}

func (h *heif) readIloc(p []byte) error {
	r := &bits{b: p}
	version := r.n(8)
	r.n(24)
	offSize, lenSize, baseSize := r.n(4), r.n(4), r.n(4)
	idxSize := r.n(4)
	if version == 0 {
		idxSize = 0
	}
	count := r.n(16)
	if version == 2 {
		count = r.n(32)
	}
	total := uint64(0)
	for i := uint64(0); i < count && !r.bad; i++ {
		if i >= maxBoxes {
			return fmt.Errorf("iloc lists more than %d items: %w", maxBoxes, ErrLimit)
		}
		id := r.n(16)
		if version == 2 {
			id = r.n(32)
		}
		method := 0
		if version == 1 || version == 2 {
			method = int(r.n(16) & 0xf)
		}
		r.n(16) // data reference index
		base := r.n(int(baseSize) * 8)
		extents := r.n(16)
		if total += extents; total > maxBoxes {
			return fmt.Errorf("iloc lists more than %d extents: %w", maxBoxes, ErrLimit)
		}
		for e := uint64(0); e < extents && !r.bad; e++ {
			r.n(int(idxSize) * 8)
			off, length := r.n(int(offSize)*8), r.n(int(lenSize)*8)
			if _, ok := h.locs[uint32(id)]; !ok && e == 0 {
				h.locs[uint32(id)] = extent{method: method, off: int64(base + off), length: int64(length)}
			}
		}
	}
	if r.bad {
		return malformed("iloc box is truncated")
	}
	return nil
}

func (h *heif) readIpma(p []byte) error {
	r := &bits{b: p}
	version := r.n(8)
	flags := r.n(24)
	count := r.n(32)
	for i := uint64(0); i < count && !r.bad; i++ {
		if i >= maxBoxes {
			return fmt.Errorf("ipma lists more than %d items: %w", maxBoxes, ErrLimit)
		}
		id := r.n(16)
		if version >= 1 {
			id = r.n(32)
		}
		n := r.n(8)
		for j := uint64(0); j < n && !r.bad; j++ {
			var idx uint64
			if flags&1 != 0 {
				idx = r.n(16) & 0x7fff
			} else {
				idx = r.n(8) & 0x7f
			}
			if uint32(id) == h.primary || h.primary == 0 {
				h.assoc[uint32(id)] = append(h.assoc[uint32(id)], int(idx))
			}
		}
	}
	if r.bad {
		return malformed("ipma box is truncated")
	}
	return nil
}

// itemData reads an item's first extent, capped at MaxRead.
func (h *heif) itemData(s *src, id uint32) ([]byte, error) {
	e, ok := h.locs[id]
	if !ok {
		return nil, malformed("item %d has no location", id)
	}
	switch e.method {
	case 0:
		return s.read(e.off, e.length)
	case 1:
		if h.idat.end == 0 || e.off+e.length > h.idat.end-h.idat.start {
			return nil, malformed("item %d lies outside idat", id)
		}
		return s.read(h.idat.start+e.off, e.length)
	}
	return nil, fmt.Errorf("item %d uses construction method %d: %w", id, e.method, ErrUnsupported)
}

// bits reads big-endian fields of any bit width from a byte slice; reading
// past the end sets bad and yields zeros.
type bits struct {
	b   []byte
	pos int // in bits
	bad bool
}

func (r *bits) n(width int) uint64 {
	var v uint64
	for i := 0; i < width; i++ {
		if r.pos/8 >= len(r.b) {
			r.bad = true
			return 0
		}
		v = v<<1 | uint64(r.b[r.pos/8]>>(7-r.pos%8)&1)
		r.pos++
	}
	return v
}
