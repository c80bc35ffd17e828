package probe

import (
	"encoding/binary"
	"fmt"
	"math"
	"strings"
	"time"
)

// TIFF tags Probe reads (IFD0, Exif IFD and GPS IFD).
const (
	tagNewSubfileType  = 0x00FE
	tagImageWidth      = 0x0100
	tagImageLength     = 0x0101
	tagBitsPerSample   = 0x0102
	tagMake            = 0x010F
	tagModel           = 0x0110
	tagOrientation     = 0x0112
	tagDateTime        = 0x0132
	tagSubIFDs         = 0x014A
	tagExifIFD         = 0x8769
	tagGPSIFD          = 0x8825
	tagDateTimeOrig    = 0x9003
	tagDateTimeDigit   = 0x9004
	tagOffsetTime      = 0x9010
	tagOffsetTimeOrig  = 0x9011
	tagOffsetTimeDigit = 0x9012
	tagSubSecTimeOrig  = 0x9291
	tagSubSecTimeDigit = 0x9292
	tagLensModel       = 0xA434

	gpsLatRef    = 1
	gpsLat       = 2
	gpsLonRef    = 3
	gpsLon       = 4
	gpsAltRef    = 5
	gpsAlt       = 6
	gpsTimeStamp = 7
	gpsDateStamp = 0x1D
)

const (
	maxIFDEntries = 1000 // entries of one IFD
	maxIFDs       = 64   // IFDs followed in one TIFF structure
	maxTagValue   = 64 << 10
)

// typeSize is the size of one value of each TIFF field type.
var typeSize = [...]int64{1: 1, 2: 1, 3: 2, 4: 4, 5: 8, 6: 1, 7: 1, 8: 2, 9: 4, 10: 8, 11: 4, 12: 8, 13: 4}

// tiff reads a TIFF structure (a TIFF file, or an EXIF block).
type tiff struct {
	s    *src
	bo   binary.ByteOrder
	seen map[int64]bool
}

// entry is one IFD entry; off is where its value is.
type entry struct {
	typ   uint16
	count int64
	off   int64
}

type ifd map[uint16]entry

func newTIFF(s *src) (*tiff, int64, error) {
	h, err := s.read(0, 8)
	if err != nil {
		return nil, 0, fmt.Errorf("reading TIFF header: %w", err)
	}
	t := &tiff{s: s, seen: map[int64]bool{}}
	switch string(h[:4]) {
	case "II*\x00":
		t.bo = binary.LittleEndian
	case "MM\x00*":
		t.bo = binary.BigEndian
	default:
		return nil, 0, malformed("TIFF header %q is neither II*0 nor MM0*", h[:4])
	}
	return t, int64(t.bo.Uint32(h[4:])), nil
}

// ifd reads the IFD at off and returns its entries and the next IFD's offset.
func (t *tiff) ifd(off int64) (ifd, int64, error) {
	if off <= 0 {
		return nil, 0, nil
	}
	if t.seen[off] || len(t.seen) >= maxIFDs {
		return nil, 0, malformed("IFD at offset %d loops or exceeds %d IFDs", off, maxIFDs)
	}
	t.seen[off] = true
	nb, err := t.s.read(off, 2)
	if err != nil {
		return nil, 0, fmt.Errorf("reading IFD at offset %d: %w", off, err)
	}
	n := int64(t.bo.Uint16(nb))
	if n > maxIFDEntries {
		return nil, 0, malformed("IFD at offset %d has %d entries (cap %d)", off, n, maxIFDEntries)
	}
	b, err := t.s.read(off+2, n*12+4)
	if err != nil {
		// Tolerate a missing next-IFD pointer at the very end.
		if b, err = t.s.read(off+2, n*12); err != nil {
			return nil, 0, fmt.Errorf("reading %d entries of IFD at offset %d: %w", n, off, err)
		}
		b = append(b, 0, 0, 0, 0)
	}
	out := make(ifd, n)
	for i := int64(0); i < n; i++ {
		e := b[i*12:]
		typ := t.bo.Uint16(e[2:])
		if int(typ) >= len(typeSize) || typeSize[typ] == 0 {
			continue
		}
		en := entry{typ: typ, count: int64(t.bo.Uint32(e[4:])), off: off + 2 + i*12 + 8}
		if en.count*typeSize[typ] > 4 {
			en.off = int64(t.bo.Uint32(e[8:]))
		}
		out[t.bo.Uint16(e)] = en
	}
	return out, int64(t.bo.Uint32(b[n*12:])), nil
}

// value reads the raw bytes of e, up to maxTagValue.
func (t *tiff) value(e entry) ([]byte, bool) {
	n := e.count * typeSize[e.typ]
	if n > maxTagValue || n < 0 {
		return nil, false
	}
	b, err := t.s.read(e.off, n)
	return b, err == nil
}

func (d ifd) str(t *tiff, tag uint16) string {
	e, ok := d[tag]
	if !ok || (e.typ != 2 && e.typ != 7 && e.typ != 1) {
		return ""
	}
	b, ok := t.value(e)
	if !ok {
		return ""
	}
	return strings.ToValidUTF8(cstr(b), "")
}

// uints reads BYTE, SHORT and LONG values (the first max of them).
func (d ifd) uints(t *tiff, tag uint16, max int) []uint64 {
	e, ok := d[tag]
	if !ok {
		return nil
	}
	if e.count > int64(max) {
		e.count = int64(max)
	}
	b, ok := t.value(e)
	if !ok {
		return nil
	}
	var out []uint64
	for i := int64(0); i < e.count; i++ {
		switch e.typ {
		case 1, 7:
			out = append(out, uint64(b[i]))
		case 3:
			out = append(out, uint64(t.bo.Uint16(b[i*2:])))
		case 4, 13:
			out = append(out, uint64(t.bo.Uint32(b[i*4:])))
		default:
			return nil
		}
	}
	return out
}

func (d ifd) uint(t *tiff, tag uint16) (uint64, bool) {
	v := d.uints(t, tag, 1)
	if len(v) == 0 {
		return 0, false
	}
	return v[0], true
}

// rationals reads RATIONAL and SRATIONAL values; a zero denominator is NaN.
func (d ifd) rationals(t *tiff, tag uint16, max int) []float64 {
	e, ok := d[tag]
	if !ok || (e.typ != 5 && e.typ != 10) || e.count > int64(max) {
		return nil
	}
	b, ok := t.value(e)
	if !ok {
		return nil
	}
	out := make([]float64, e.count)
	for i := range out {
		num, den := t.bo.Uint32(b[i*8:]), t.bo.Uint32(b[i*8+4:])
		if e.typ == 10 {
			out[i] = float64(int32(num)) / float64(int32(den))
		} else {
			out[i] = float64(num) / float64(den)
		}
		if den == 0 {
			out[i] = math.NaN()
		}
	}
	return out
}

// parseEXIF reads an EXIF block (a TIFF structure, optionally after
// "Exif\0\0") into info. Its errors are lenient: a broken EXIF block in an
// otherwise sound file leaves what was read.
func parseEXIF(b []byte, info *Info) {
	if len(b) >= 6 && string(b[:6]) == "Exif\x00\x00" {
		b = b[6:]
	}
	_ = readTIFF(bytesSrc(b), info, false)
}

// readTIFF reads IFD0 and its Exif and GPS IFDs; image is true for a TIFF
// file, whose IFDs also give the dimensions.
func readTIFF(s *src, info *Info, image bool) error {
	t, off, err := newTIFF(s)
	if err != nil {
		return err
	}
	ifd0, next, err := t.ifd(off)
	if err != nil {
		return fmt.Errorf("reading IFD0: %w", err)
	}
	if image {
		tiffDims(t, ifd0, next, info)
	}
	info.CameraMake = ifd0.str(t, tagMake)
	info.CameraModel = ifd0.str(t, tagModel)
	if o, ok := ifd0.uint(t, tagOrientation); ok && o >= 1 && o <= 8 {
		info.Orientation = int(o)
	}
	var exif ifd
	if p, ok := ifd0.uint(t, tagExifIFD); ok {
		exif, _, _ = t.ifd(int64(p))
	}
	var gps ifd
	if p, ok := ifd0.uint(t, tagGPSIFD); ok {
		gps, _, _ = t.ifd(int64(p))
	}
	info.Lens = exif.str(t, tagLensModel)
	date, sub, zone := exif.str(t, tagDateTimeOrig), exif.str(t, tagSubSecTimeOrig), exif.str(t, tagOffsetTimeOrig)
	if date == "" {
		date, sub, zone = exif.str(t, tagDateTimeDigit), exif.str(t, tagSubSecTimeDigit), exif.str(t, tagOffsetTimeDigit)
	}
	if date == "" {
		date, sub, zone = ifd0.str(t, tagDateTime), "", exif.str(t, tagOffsetTime)
	}
	info.TakenAt = exifTime(date, sub, zone, gpsTime(t, gps))
	info.GPS = gpsPosition(t, gps)
	return nil
}

// tiffDims sets the dimensions of the main image of a TIFF file: IFD0's,
// unless IFD0 is a reduced image (a raw file's preview) and a SubIFD or a
// later IFD holds the full one.
func tiffDims(t *tiff, ifd0 ifd, next int64, info *Info) {
	dims := func(d ifd) (int, int) {
		w, _ := d.uint(t, tagImageWidth)
		h, _ := d.uint(t, tagImageLength)
		return int(min(w, 1<<31)), int(min(h, 1<<31))
	}
	w, h := dims(ifd0)
	if st, _ := ifd0.uint(t, tagNewSubfileType); st&1 != 0 {
		for _, p := range ifd0.uints(t, tagSubIFDs, 8) {
			sub, _, err := t.ifd(int64(p))
			if err != nil {
				continue
			}
			if st, _ := sub.uint(t, tagNewSubfileType); st&1 == 0 {
				if sw, sh := dims(sub); sw*sh > w*h {
					w, h = sw, sh
				}
			}
		}
	}
	info.Width, info.Height = w, h
	if bps := ifd0.uints(t, tagBitsPerSample, 4); len(bps) > 0 {
		info.BitDepth = int(bps[0])
	}
}

// gpsTime is the UTC time of the GPS fix, or the zero time.
func gpsTime(t *tiff, gps ifd) time.Time {
	d := gps.str(t, gpsDateStamp)
	ts := gps.rationals(t, gpsTimeStamp, 3)
	if d == "" || len(ts) != 3 {
		return time.Time{}
	}
	day, err := time.Parse("2006:01:02", strings.ReplaceAll(d, "-", ":"))
	if err != nil || math.IsNaN(ts[0]+ts[1]+ts[2]) {
		return time.Time{}
	}
	secs := ts[0]*3600 + ts[1]*60 + ts[2]
	if secs < 0 || secs > 86401 {
		return time.Time{}
	}
	return day.Add(time.Duration(secs * float64(time.Second)))
}

// exifTime formats an EXIF date ("2006:01:02 15:04:05"), its sub-seconds
// and its offset ("+02:00") as RFC 3339. Without an offset, the GPS time of
// the photo gives it when the two are within 14 hours (rounded to 15
// minutes); otherwise the time is local, without offset.
func exifTime(date, subsec, offset string, gpsUTC time.Time) string {
	if len(date) < 19 {
		return ""
	}
	t, err := time.Parse("2006:01:02 15:04:05", strings.NewReplacer("-", ":", "T", " ").Replace(date[:19]))
	if err != nil || t.Year() < 1 {
		return ""
	}
	out := t.Format("2006-01-02T15:04:05")
	if subsec = strings.TrimSpace(subsec); subsec != "" && len(subsec) <= 9 && strings.Trim(subsec, "0123456789") == "" {
		out += "." + subsec
	}
	if o, ok := parseOffset(offset); ok {
		return out + o
	}
	if !gpsUTC.IsZero() {
		d := t.Sub(gpsUTC).Round(15 * time.Minute)
		if d.Abs() <= 14*time.Hour {
			return out + formatOffset(d)
		}
	}
	return out
}

// parseOffset checks an EXIF offset "+HH:MM" and returns it in RFC 3339.
func parseOffset(s string) (string, bool) {
	s = strings.TrimSpace(s)
	if len(s) != 6 || (s[0] != '+' && s[0] != '-') || s[3] != ':' {
		return "", false
	}
	h, err1 := time.Parse("15:04", s[1:])
	if err1 != nil || h.Hour() > 14 {
		return "", false
	}
	if s == "-00:00" {
		s = "+00:00"
	}
	return s, true
}

func formatOffset(d time.Duration) string {
	sign := '+'
	if d < 0 {
		sign, d = '-', -d
	}
	m := int(d / time.Minute)
	return fmt.Sprintf("%c%02d:%02d", sign, m/60, m%60)
}

// gpsPosition reads the GPS IFD's position, or nil.
func gpsPosition(t *tiff, gps ifd) *GPS {
	lat, lon := gps.rationals(t, gpsLat, 3), gps.rationals(t, gpsLon, 3)
	if len(lat) != 3 || len(lon) != 3 {
		return nil
	}
	deg := func(v []float64) float64 { return v[0] + v[1]/60 + v[2]/3600 }
	p := &GPS{Lat: deg(lat), Lon: deg(lon)}
	if strings.HasPrefix(strings.ToUpper(gps.str(t, gpsLatRef)), "S") {
		p.Lat = -p.Lat
	}
	if strings.HasPrefix(strings.ToUpper(gps.str(t, gpsLonRef)), "W") {
		p.Lon = -p.Lon
	}
	if math.IsNaN(p.Lat) || math.IsNaN(p.Lon) || math.Abs(p.Lat) > 90 || math.Abs(p.Lon) > 180 {
		return nil
	}
	// Nanodegrees (0.1 mm) are finer than any receiver: drop float noise.
	p.Lat, p.Lon = math.Round(p.Lat*1e9)/1e9, math.Round(p.Lon*1e9)/1e9
	if alt := gps.rationals(t, gpsAlt, 1); len(alt) == 1 && !math.IsNaN(alt[0]) && !math.IsInf(alt[0], 0) {
		a := alt[0]
		if ref, ok := gps.uint(t, gpsAltRef); ok && ref == 1 {
			a = -a
		}
		p.Alt = &a
	}
	return p
}

// probeTIFF reads a TIFF file (or a TIFF-based raw file).
func probeTIFF(s *src, info *Info) error {
	return readTIFF(s, info, true)
}
