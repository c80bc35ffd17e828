package thumb

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"image"
	"image/color"
	"image/jpeg"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/cairnfs/cairn/internal/testtool"
)

// Quadrant colours of the test pattern, upright: red top-left, green
// top-right, blue bottom-left, white bottom-right.
var (
	red   = color.RGBA{255, 0, 0, 255}
	green = color.RGBA{0, 255, 0, 255}
	blue  = color.RGBA{0, 0, 255, 255}
	white = color.RGBA{255, 255, 255, 255}
)

// upright is the pattern as it must look: w×h, four coloured quadrants.
func upright(w, h int) *image.RGBA {
	m := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			c := white
			switch {
			case x < w/2 && y < h/2:
				c = red
			case y < h/2:
				c = green
			case x < w/2:
				c = blue
			}
			m.SetRGBA(x, y, c)
		}
	}
	return m
}

// stored is how a camera stores the upright image u with EXIF orientation
// o, derived from the EXIF specification's words (where the stored 0th row
// and 0th column are when displayed) rather than from orient's code.
func stored(u *image.RGBA, o int) *image.RGBA {
	w, h := u.Rect.Dx(), u.Rect.Dy() // displayed size
	sw, sh := w, h
	if o >= 5 {
		sw, sh = h, w
	}
	// row0At and col0At: the displayed side of the stored 0th row and 0th column.
	sides := map[int][2]string{
		1: {"top", "left"}, 2: {"top", "right"}, 3: {"bottom", "right"}, 4: {"bottom", "left"},
		5: {"left", "top"}, 6: {"right", "top"}, 7: {"right", "bottom"}, 8: {"left", "bottom"},
	}[o]
	s := image.NewRGBA(image.Rect(0, 0, sw, sh))
	for sy := 0; sy < sh; sy++ {
		for sx := 0; sx < sw; sx++ {
			var dx, dy int
			switch sides[0] { // stored row sy
			case "top":
				dy = sy
			case "bottom":
				dy = h - 1 - sy
			case "left":
				dx = sy
			case "right":
				dx = w - 1 - sy
			}
			switch sides[1] { // stored column sx
			case "left":
				dx = sx
			case "right":
				dx = w - 1 - sx
			case "top":
				dy = sx
			case "bottom":
				dy = h - 1 - sx
			}
			s.SetRGBA(sx, sy, u.RGBAAt(dx, dy))
		}
	}
	return s
}

func encodeJPEG(t testing.TB, m image.Image) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := jpeg.Encode(&b, m, &jpeg.Options{Quality: 90}); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// tiffOrientationIFD is a TIFF structure whose IFD0 holds only the
// Orientation tag, in byte order bo.
func tiffOrientationIFD(bo binary.ByteOrder, o uint16) []byte {
	b := make([]byte, 8+2+12+4)
	if bo == binary.LittleEndian {
		copy(b, "II")
	} else {
		copy(b, "MM")
	}
	bo.PutUint16(b[2:], 42)
	bo.PutUint32(b[4:], 8)
	bo.PutUint16(b[8:], 1)
	bo.PutUint16(b[10:], 0x0112)
	bo.PutUint16(b[12:], 3)
	bo.PutUint32(b[14:], 1)
	bo.PutUint16(b[18:], o)
	return b
}

// withAPP1 inserts an Exif APP1 segment with the orientation after the SOI
// of a JPEG.
func withAPP1(jpg []byte, bo binary.ByteOrder, o int) []byte {
	payload := append([]byte("Exif\x00\x00"), tiffOrientationIFD(bo, uint16(o))...)
	seg := []byte{0xFF, 0xE1, 0, 0}
	binary.BigEndian.PutUint16(seg[2:], uint16(len(payload)+2))
	out := append([]byte{}, jpg[:2]...)
	out = append(out, seg...)
	out = append(out, payload...)
	return append(out, jpg[2:]...)
}

// pngChunk encodes one PNG chunk with its CRC.
func pngChunk(typ string, data []byte) []byte {
	b := binary.BigEndian.AppendUint32(nil, uint32(len(data)))
	b = append(b, typ...)
	b = append(b, data...)
	return binary.BigEndian.AppendUint32(b, crc32.ChecksumIEEE(b[4:]))
}

// exiftool sets the Orientation of the file at p with exiftool, skipping
// the test when it is not installed (failing it under CI=true).
func exiftool(t *testing.T, p string, o int) {
	t.Helper()
	bin := testtool.Need(t, "exiftool", "libimage-exiftool-perl")
	out, err := exec.Command(bin, "-q", "-overwrite_original", "-n", "-Orientation="+strconv.Itoa(o), p).CombinedOutput()
	if err != nil {
		t.Fatalf("exiftool on %s: %v\n%s", filepath.Base(p), err, out)
	}
}

func writeTemp(t *testing.T, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// checkPattern decodes a thumbnail and checks it is the upright pattern:
// size w×h and each quadrant's colour at its centre.
func checkPattern(t *testing.T, name string, th Thumb, w, h int) {
	t.Helper()
	if th.Width != w || th.Height != h {
		t.Errorf("%s: variant %d is %d×%d, want %d×%d", name, th.Variant, th.Width, th.Height, w, h)
		return
	}
	m, _, err := image.Decode(bytes.NewReader(th.Data))
	if err != nil {
		t.Fatalf("%s: decoding the %s thumbnail: %v", name, th.Format, err)
	}
	if b := m.Bounds(); b.Dx() != w || b.Dy() != h {
		t.Errorf("%s: encoded thumbnail is %v, want %d×%d", name, b, w, h)
		return
	}
	for _, q := range []struct {
		x, y int
		want color.RGBA
		name string
	}{{w / 4, h / 4, red, "top-left"}, {3 * w / 4, h / 4, green, "top-right"},
		{w / 4, 3 * h / 4, blue, "bottom-left"}, {3 * w / 4, 3 * h / 4, white, "bottom-right"}} {
		r, g, b, _ := m.At(q.x, q.y).RGBA()
		if !near(r>>8, q.want.R) || !near(g>>8, q.want.G) || !near(b>>8, q.want.B) {
			t.Errorf("%s: variant %d %s is (%d,%d,%d), want %v", name, th.Variant, q.name, r>>8, g>>8, b>>8, q.want)
		}
	}
}

func near(a uint32, b uint8) bool { return a+40 >= uint32(b) && a <= uint32(b)+40 }
