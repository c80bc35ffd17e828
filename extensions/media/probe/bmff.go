package probe

import (
	"bytes"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// box is an ISO-BMFF box: its type, where its payload starts and ends.
type box struct {
	typ        string
	start, end int64 // payload
}

// walk calls fn for each box between off and end, in order.
func walk(s *src, off, end int64, fn func(b box) error) error {
	for n := 0; off+8 <= end; n++ {
		if n >= maxBoxes {
			return fmt.Errorf("more than %d boxes at one level: %w", maxBoxes, ErrLimit)
		}
		h, err := s.read(off, 8)
		if err != nil {
			return fmt.Errorf("reading the box header at offset %d: %w", off, err)
		}
		size, typ, hdr := int64(be32(h)), string(h[4:8]), int64(8)
		switch size {
		case 0:
			size = end - off
		case 1:
			l, err := s.read(off+8, 8)
			if err != nil {
				return fmt.Errorf("reading the size of box %q at offset %d: %w", typ, off, err)
			}
			size, hdr = int64(be64(l)), 16
		}
		if size < hdr || size > end-off {
			if typ == "mdat" || size > end-off && off+hdr <= end && n > 0 {
				return nil // a truncated last box: what came before stands
			}
			return malformed("box %q at offset %d has size %d (%d bytes left)", typ, off, size, end-off)
		}
		if err := fn(box{typ: typ, start: off + hdr, end: off + size}); err != nil {
			return err
		}
		off += size
	}
	return nil
}

// payload reads a box's payload, capped at MaxRead.
func (b box) payload(s *src) ([]byte, error) {
	p, err := s.read(b.start, b.end-b.start)
	if err != nil {
		return nil, fmt.Errorf("reading box %q: %w", b.typ, err)
	}
	return p, nil
}

// imageBrands are the ftyp brands of HEIF still images.
var imageBrands = map[string]bool{"heic": true, "heix": true, "heim": true, "heis": true, "mif1": true,
	"msf1": true, "avif": true, "avis": true, "avci": true, "heif": true, "jpeg": true}

// probeBMFF reads an ISO base media file: a movie (moov) or a HEIF image
// (meta).
func probeBMFF(s *src, info *Info) error {
	var moov, meta *box
	brand := ""
	err := walk(s, 0, s.size, func(b box) error {
		switch b.typ {
		case "ftyp":
			if p, err := s.read(b.start, 4); err == nil {
				brand = string(p)
			}
		case "moov":
			moov = &b
		case "meta":
			meta = &b
		}
		return nil
	})
	if err != nil {
		return err
	}
	switch {
	case meta != nil && (moov == nil || imageBrands[brand]):
		return probeHEIF(s, *meta, info)
	case moov != nil:
		if err := probeMovie(s, *moov, info); err != nil {
			return err
		}
		if info.DurationS > 0 {
			info.Bitrate = int64(float64(s.size) * 8 / info.DurationS)
		}
		return nil
	}
	return malformed("neither a movie box (moov) nor a metadata box (meta) at the top level (brand %q)", brand)
}

// track is what a trak box says.
type track struct {
	handler             string
	codec               string
	width, height       int
	matrix              [4]int32
	timescale, duration uint64
	samples             uint64
	sampleRate          int
	channels, bits      int
}

// probeMovie reads mvhd and the tracks of a moov box.
func probeMovie(s *src, moov box, info *Info) error {
	var timescale, duration uint64
	var created uint64
	var tracks []*track
	err := walk(s, moov.start, moov.end, func(b box) error {
		switch b.typ {
		case "mvhd":
			p, err := b.payload(s)
			if err != nil {
				return err
			}
			if p[0] == 1 && len(p) >= 32 {
				created, timescale, duration = be64(p[4:]), uint64(be32(p[20:])), be64(p[24:])
			} else if len(p) >= 20 {
				created, timescale, duration = uint64(be32(p[4:])), uint64(be32(p[12:])), uint64(be32(p[16:]))
			} else {
				return malformed("mvhd of %d bytes", len(p))
			}
		case "mvex":
			return walk(s, b.start, b.end, func(c box) error {
				if c.typ == "mehd" && duration == 0 {
					p, err := c.payload(s)
					if err == nil && len(p) >= 8 {
						if p[0] == 1 && len(p) >= 12 {
							duration = be64(p[4:])
						} else {
							duration = uint64(be32(p[4:]))
						}
					}
				}
				return nil
			})
		case "trak":
			if len(tracks) >= 64 {
				return nil
			}
			t := &track{}
			tracks = append(tracks, t)
			return readTrak(s, b, t, 0)
		case "udta":
			return walk(s, b.start, b.end, func(c box) error {
				if c.end-c.start > 1024 {
					return nil
				}
				switch c.typ {
				case "\xa9xyz": // QuickTime: ISO 6709 text
					if p, err := c.payload(s); err == nil && len(p) > 4 {
						info.GPS = parseISO6709(string(p[4:]))
					}
				case "loci": // 3GPP: 16.16 fixed-point degrees and metres
					if p, err := c.payload(s); err == nil && len(p) > 6 && info.GPS == nil {
						info.GPS = parseLoci(p[6:])
					}
				}
				return nil
			})
		}
		return nil
	})
	if err != nil {
		return err
	}
	if timescale > 0 && duration > 0 && duration != 1<<32-1 && duration != 1<<64-1 {
		info.DurationS = float64(duration) / float64(timescale)
	}
	if created > 0 {
		t := time.Date(1904, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(created) * time.Second)
		if created < 1<<34 && t.Year() > 1970 {
			info.TakenAt = t.Format(time.RFC3339)
		}
	}
	var video, audio *track
	for _, t := range tracks {
		if t.handler == "vide" && video == nil && t.codec != "" {
			video = t
		}
		if t.handler == "soun" && audio == nil && t.codec != "" {
			audio = t
		}
	}
	if info.DurationS == 0 {
		for _, t := range tracks {
			if t.timescale > 0 {
				info.DurationS = max(info.DurationS, float64(t.duration)/float64(t.timescale))
			}
		}
	}
	if audio != nil {
		info.Codec, info.SampleRate, info.Channels, info.BitDepth = audio.codec, audio.sampleRate, audio.channels, audio.bits
		if !strings.HasPrefix(audio.codec, "pcm") {
			info.BitDepth = 0 // the sample entry's 16 is a placeholder for compressed audio
		}
	}
	if video != nil {
		info.Codec = video.codec
		info.Width, info.Height = video.width, video.height
		info.Orientation = orientationOf(video.matrix)
		if video.timescale > 0 && video.duration > 0 && video.samples > 0 {
			info.FPS = float64(video.samples) * float64(video.timescale) / float64(video.duration)
		}
	}
	return nil
}

// readTrak reads the boxes of a trak and its descendants that describe it.
func readTrak(s *src, b box, t *track, depth int) error {
	if depth > maxDepth {
		return malformed("boxes nested deeper than %d", maxDepth)
	}
	return walk(s, b.start, b.end, func(c box) error {
		switch c.typ {
		case "mdia", "minf", "stbl":
			return readTrak(s, c, t, depth+1)
		case "tkhd":
			p, err := c.payload(s)
			if err != nil {
				return err
			}
			m := 40
			if p[0] == 1 {
				m = 52
			}
			if len(p) < m+44 {
				return malformed("tkhd of %d bytes", len(p))
			}
			for i, k := range []int{0, 1, 3, 4} {
				t.matrix[i] = int32(be32(p[m+4*k:])) >> 16
			}
			if t.width == 0 {
				t.width, t.height = int(be32(p[m+36:])>>16), int(be32(p[m+40:])>>16)
			}
		case "mdhd":
			p, err := c.payload(s)
			if err != nil {
				return err
			}
			if p[0] == 1 && len(p) >= 32 {
				t.timescale, t.duration = uint64(be32(p[20:])), be64(p[24:])
			} else if len(p) >= 20 {
				t.timescale, t.duration = uint64(be32(p[12:])), uint64(be32(p[16:]))
			}
		case "hdlr":
			// The first is mdia's; a QuickTime minf has a data handler too.
			if p, err := s.read(c.start, 12); err == nil && t.handler == "" {
				t.handler = string(p[8:12])
			}
		case "stsd":
			return readStsd(s, c, t)
		case "stts":
			p, err := s.readUpTo(c.start, 8+8*4096)
			if err != nil || len(p) < 8 {
				return nil
			}
			n := min(int(be32(p[4:])), (len(p)-8)/8)
			for i := 0; i < n; i++ {
				t.samples += uint64(be32(p[8+8*i:]))
			}
		}
		return nil
	})
}

// sampleCodecs maps sample entry types to ffprobe's codec names.
var sampleCodecs = map[string]string{
	"avc1": "h264", "avc3": "h264", "hvc1": "hevc", "hev1": "hevc", "vp08": "vp8", "vp09": "vp9",
	"av01": "av1", "mp4v": "mpeg4", "s263": "h263", "jpeg": "mjpeg", "mjpa": "mjpeg", "apch": "prores",
	"apcn": "prores", "apcs": "prores", "apco": "prores", "ap4h": "prores", "ap4x": "prores",
	"mp4a": "aac", ".mp3": "mp3", "Opus": "opus", "fLaC": "flac", "alac": "alac", "ac-3": "ac3",
	"ec-3": "eac3", "sowt": "pcm_s16le", "twos": "pcm_s16be", "in24": "pcm_s24be", "in32": "pcm_s32be",
	"fl32": "pcm_f32be", "fl64": "pcm_f64be", "raw ": "pcm_u8", "ulaw": "pcm_mulaw", "alaw": "pcm_alaw",
	"samr": "amr_nb", "sawb": "amr_wb", "dvh1": "hevc", "dvhe": "hevc", "dva1": "h264", "dvav": "h264",
}

// esdsCodecs maps MPEG-4 objectTypeIndication to codec names.
var esdsCodecs = map[byte]string{0x40: "aac", 0x66: "aac", 0x67: "aac", 0x68: "aac", 0x69: "mp3", 0x6B: "mp3",
	0xA5: "ac3", 0xA6: "eac3", 0xDD: "vorbis", 0x20: "mpeg4", 0x21: "h264", 0x6C: "mjpeg", 0x60: "mpeg2video",
	0x61: "mpeg2video", 0x6A: "mpeg1video"}

// readStsd reads the first sample entry.
func readStsd(s *src, c box, t *track) error {
	p, err := s.readUpTo(c.start, min(c.end-c.start, 4096))
	if err != nil {
		return err
	}
	if len(p) < 16 || be32(p[4:]) == 0 {
		return nil
	}
	e := p[8:]
	size := int(be32(e))
	typ := string(e[4:8])
	if size > len(e) || size < 16 {
		size = len(e)
	}
	e = e[8:size] // the sample entry's payload
	t.codec = sampleCodecs[typ]
	switch t.handler {
	case "vide":
		if len(e) >= 28 {
			t.width, t.height = int(be16(e[24:])), int(be16(e[26:]))
		}
		if typ == "mp4v" && len(e) > 78 {
			if oti, _, ok := esdsObjectType(e[78:]); ok && esdsCodecs[oti] != "" {
				t.codec = esdsCodecs[oti]
			}
		}
	case "soun":
		if len(e) < 28 {
			return nil
		}
		version := be16(e[8:])
		t.channels, t.bits, t.sampleRate = int(be16(e[16:])), int(be16(e[18:])), int(be32(e[24:])>>16)
		children := 28
		switch version {
		case 1:
			children += 16
		case 2:
			children += 36
			if len(e) >= 64 {
				t.sampleRate = int(float64frombits(be64(e[32:])))
				t.channels, t.bits = int(be32(e[40:])), int(be32(e[48:]))
			}
		}
		if typ == "mp4a" && children < len(e) {
			if oti, dsi, ok := esdsObjectType(e[children:]); ok && esdsCodecs[oti] != "" {
				t.codec = esdsCodecs[oti]
				if t.codec == "aac" {
					aacConfig(dsi, t)
				}
			}
		}
		if typ == "lpcm" {
			t.codec = fmt.Sprintf("pcm_s%dle", t.bits)
		}
		if typ == "Opus" {
			t.sampleRate = 48000
		}
	}
	if t.codec == "" && typ != "" {
		t.codec = strings.TrimSpace(strings.ToLower(typ))
	}
	return nil
}

// aacFrequencies are the sampling frequencies by AudioSpecificConfig index.
var aacFrequencies = [...]int{96000, 88200, 64000, 48000, 44100, 32000, 24000, 22050, 16000, 12000, 11025, 8000, 7350}

// aacConfig reads the sample rate and channels of an AudioSpecificConfig:
// the sample entry's channel count is a fixed 2 for AAC.
func aacConfig(dsi []byte, t *track) {
	r := &bits{b: dsi}
	if r.n(5) == 31 { // audioObjectType escape
		r.n(6)
	}
	rate := 0
	if i := r.n(4); i == 15 {
		rate = int(r.n(24))
	} else if int(i) < len(aacFrequencies) {
		rate = aacFrequencies[i]
	}
	ch := int(r.n(4))
	if r.bad {
		return
	}
	if rate > 0 && t.sampleRate == 0 {
		t.sampleRate = rate
	}
	if ch >= 1 && ch <= 6 {
		t.channels = ch
	} else if ch == 7 {
		t.channels = 8
	}
}

// esdsObjectType finds the esds box among a sample entry's children and
// returns its DecoderConfigDescriptor's objectTypeIndication and its
// DecoderSpecificInfo.
func esdsObjectType(children []byte) (oti byte, dsi []byte, ok bool) {
	for len(children) >= 8 {
		size := int(be32(children))
		if size < 8 || size > len(children) {
			return 0, nil, false
		}
		if string(children[4:8]) == "esds" {
			d := children[12:size] // after version and flags
			for len(d) > 2 {
				tag := d[0]
				d = d[1:]
				n := 0
				for i := 0; i < 4 && len(d) > 0; i++ {
					b := d[0]
					d = d[1:]
					n = n<<7 | int(b&0x7f)
					if b&0x80 == 0 {
						break
					}
				}
				switch tag {
				case 0x03: // ES_Descriptor: ES_ID, flags, optional fields
					if len(d) < 3 {
						return 0, nil, false
					}
					flags := d[2]
					d = d[3:]
					if flags&0x80 != 0 && len(d) >= 2 {
						d = d[2:]
					}
					if flags&0x40 != 0 && len(d) >= 1 {
						d = d[min(len(d), 1+int(d[0])):]
					}
					if flags&0x20 != 0 && len(d) >= 2 {
						d = d[2:]
					}
				case 0x04: // DecoderConfigDescriptor, then DecoderSpecificInfo
					if len(d) < 13 {
						return 0, nil, false
					}
					oti, d = d[0], d[13:]
					if len(d) > 2 && d[0] == 0x05 {
						n, i := 0, 1
						for ; i < 5 && i < len(d); i++ {
							n = n<<7 | int(d[i]&0x7f)
							if d[i]&0x80 == 0 {
								i++
								break
							}
						}
						if i+n <= len(d) {
							dsi = d[i : i+n]
						}
					}
					return oti, dsi, true
				default:
					if n > len(d) {
						return 0, nil, false
					}
					d = d[n:]
				}
			}
			return 0, nil, false
		}
		children = children[size:]
	}
	return 0, nil, false
}

// orientations are the EXIF orientations as matrices (a, b, c, d) that map
// a stored pixel (x, y), y down, to the displayed (a·x + c·y, b·x + d·y).
var orientations = [9][4]int32{
	1: {1, 0, 0, 1}, 2: {-1, 0, 0, 1}, 3: {-1, 0, 0, -1}, 4: {1, 0, 0, -1},
	5: {0, 1, 1, 0}, 6: {0, 1, -1, 0}, 7: {0, -1, -1, 0}, 8: {0, -1, 1, 0},
}

// orientationOf returns the EXIF orientation of a matrix, or 0.
func orientationOf(m [4]int32) int {
	for o := 1; o <= 8; o++ {
		if orientations[o] == m {
			return o
		}
	}
	return 0
}

// compose returns the matrix of applying m1, then m2.
func compose(m2, m1 [4]int32) [4]int32 {
	a2, b2, c2, d2 := m2[0], m2[1], m2[2], m2[3]
	a1, b1, c1, d1 := m1[0], m1[1], m1[2], m1[3]
	return [4]int32{a2*a1 + c2*b1, b2*a1 + d2*b1, a2*c1 + c2*d1, b2*c1 + d2*d1}
}

// parseLoci reads a 3GPP location after its version, flags and language:
// a name, a role, then longitude, latitude and altitude in 16.16 fixed point.
func parseLoci(p []byte) *GPS {
	i := bytes.IndexByte(p, 0)
	if i < 0 || len(p) < i+2+12 {
		return nil
	}
	p = p[i+2:]
	// 1/65536 of a degree is ~1.7 m: six decimals say all there is.
	fixed := func(b []byte) float64 { return math.Round(float64(int32(be32(b)))/65536*1e6) / 1e6 }
	lon, lat, alt := fixed(p), fixed(p[4:]), fixed(p[8:])
	if lat < -90 || lat > 90 || lon < -180 || lon > 180 {
		return nil
	}
	return &GPS{Lat: lat, Lon: lon, Alt: &alt}
}

// parseISO6709 reads a position such as "+37.7858-122.4064+010.000/"
// (degrees, or DDMM / DDMMSS forms).
func parseISO6709(v string) *GPS {
	v = strings.TrimRight(strings.TrimSpace(v), "/\x00")
	var parts []string
	for i := 0; i < len(v); {
		if v[i] != '+' && v[i] != '-' {
			return nil
		}
		j := i + 1
		for j < len(v) && (v[j] >= '0' && v[j] <= '9' || v[j] == '.') {
			j++
		}
		parts = append(parts, v[i:j])
		i = j
		if len(parts) > 3 {
			return nil
		}
	}
	if len(parts) < 2 {
		return nil
	}
	lat, ok1 := iso6709Angle(parts[0], 2)
	lon, ok2 := iso6709Angle(parts[1], 3)
	if !ok1 || !ok2 || lat < -90 || lat > 90 || lon < -180 || lon > 180 {
		return nil
	}
	g := &GPS{Lat: lat, Lon: lon}
	if len(parts) == 3 {
		if alt, err := strconv.ParseFloat(parts[2], 64); err == nil {
			g.Alt = &alt
		}
	}
	return g
}

// iso6709Angle reads ±DD.D, ±DDMM.M or ±DDMMSS.S (deg digits for degrees).
func iso6709Angle(p string, deg int) (float64, bool) {
	sign := 1.0
	if p[0] == '-' {
		sign = -1
	}
	p = p[1:]
	intLen := strings.IndexByte(p, '.')
	if intLen < 0 {
		intLen = len(p)
	}
	f, err := strconv.ParseFloat(p, 64)
	if err != nil {
		return 0, false
	}
	switch intLen {
	case deg:
	case deg + 2:
		d := float64(int(f / 100))
		f = d + (f-d*100)/60
	case deg + 4:
		d := float64(int(f / 10000))
		m := float64(int((f - d*10000) / 100))
		f = d + m/60 + (f-d*10000-m*100)/3600
	default:
		return 0, false
	}
	return sign * f, true
}
