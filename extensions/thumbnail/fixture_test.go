//go:build !wasip1

package main

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"strings"
	"testing"
)

// quadrants is a w×h image with a red top-left quadrant and grey elsewhere.
func quadrants(w, h int) *image.RGBA {
	m := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			c := color.RGBA{128, 128, 128, 255}
			if x < w/2 && y < h/2 {
				c = color.RGBA{255, 0, 0, 255}
			}
			m.SetRGBA(x, y, c)
		}
	}
	return m
}

// rotatedJPEG is the upright 600×400 quadrants image stored turned 90°
// counter-clockwise (400×600) with EXIF orientation 6 in an APP1 segment.
func rotatedJPEG(t testing.TB) []byte {
	u := quadrants(600, 400)
	s := image.NewRGBA(image.Rect(0, 0, 400, 600))
	for sy := 0; sy < 600; sy++ {
		for sx := 0; sx < 400; sx++ { // orientation 6: stored row 0 is the right edge, column 0 the top
			s.SetRGBA(sx, sy, u.RGBAAt(599-sy, sx))
		}
	}
	var b bytes.Buffer
	if err := jpeg.Encode(&b, s, &jpeg.Options{Quality: 90}); err != nil {
		t.Fatal(err)
	}
	ifd := []byte{'M', 'M', 0, 42, 0, 0, 0, 8, 0, 1, 0x01, 0x12, 0, 3, 0, 0, 0, 1, 0, 6, 0, 0, 0, 0, 0, 0}
	payload := append([]byte("Exif\x00\x00"), ifd...)
	seg := binary.BigEndian.AppendUint16([]byte{0xFF, 0xE1}, uint16(len(payload)+2))
	out := append([]byte{0xFF, 0xD8}, seg...)
	out = append(out, payload...)
	return append(out, b.Bytes()[2:]...)
}

// alphaPNG is a 300×200 PNG whose right half is transparent.
func alphaPNG(t testing.TB) []byte {
	m := image.NewNRGBA(image.Rect(0, 0, 300, 200))
	for y := 0; y < 200; y++ {
		for x := 0; x < 150; x++ {
			m.SetNRGBA(x, y, color.NRGBA{20, 200, 20, 255})
		}
	}
	var b bytes.Buffer
	if err := png.Encode(&b, m); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// hugePNG is a PNG header declaring 20000×25000 pixels (500 MP).
func hugePNG() []byte {
	chunk := func(typ string, data []byte) []byte {
		b := binary.BigEndian.AppendUint32(nil, uint32(len(data)))
		b = append(append(b, typ...), data...)
		return binary.BigEndian.AppendUint32(b, crc32.ChecksumIEEE(b[4:]))
	}
	ihdr := binary.BigEndian.AppendUint32(binary.BigEndian.AppendUint32(nil, 20000), 25000)
	b := append([]byte("\x89PNG\r\n\x1a\n"), chunk("IHDR", append(ihdr, 8, 2, 0, 0, 0))...)
	return append(b, chunk("IEND", nil)...)
}

// heic is the start of a HEIC file.
var heic = append([]byte{0, 0, 0, 24}, "ftypheic\x00\x00\x00\x00mif1heic"...)

// fixtureImages are the test images by name, and what each item's outcome
// must be: its data, or an error prefix when it begins with "error: ".
func fixtureImages(t testing.TB) map[string][]byte {
	jpg := rotatedJPEG(t)
	return map[string][]byte{
		"photos/rotated.jpg":   jpg,
		"photos/alpha.png":     alphaPNG(t),
		"photos/truncated.jpg": jpg[:len(jpg)/2],
		"photos/iphone.jpg":    heic, // misnamed: a HEIC
		"photos/huge.png":      hugePNG(),
		"icons/icon.svg":       []byte(iconSVG),
		"icons/map.svg":        []byte(`<svg xmlns="http://www.w3.org/2000/svg" width="4000" height="3000">` + strings.Repeat(`<path d="M0 0L10 10"/>`, 8000) + `</svg>`),
	}
}

// iconSVG is a small SVG: its own thumbnail, 48×32 from its viewBox.
const iconSVG = `<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 48 32"><rect width="48" height="32" fill="red"/></svg>`

// wantOutcome is what each fixture image's outcome must be (data JSON, or
// "error: " and the error's start).
var wantOutcome = map[string]string{
	"rotated.jpg": `{"variants":[{"variant":"1024","width":600,"height":400,"format":"jpg"},{"variant":"256","width":256,"height":171,"format":"jpg"}]}`,
	// 300×200: its own 1024 px thumbnail (no same-size copy), a made 256 px one.
	"alpha.png": `{"variants":[{"variant":"1024","width":300,"height":200,"format":"png","storage":"content"},{"variant":"256","width":256,"height":171,"format":"png"}]}`,
	"icon.svg":  `{"variants":[{"variant":"1024","width":48,"height":32,"format":"svg","storage":"content"},{"variant":"256","width":48,"height":32,"format":"svg","storage":"content"}]}`,
	// a 176 kB SVG: not rendered, not a failure, and too heavy to stand as its own thumbnail
	"map.svg":       `{"unsupported":"image format not supported for thumbnails: SVG rendering (no pure-Go renderer), and at 176073 bytes the SVG is over the 131072 bytes an SVG may take to stand as its own thumbnail"}`,
	"truncated.jpg": "error: decoding the JPEG image: the file is truncated",
	"iphone.jpg":    `{"unsupported":"image format not supported for thumbnails: HEIC/HEIF (HEIC) cannot be decoded in pure Go (no HEVC decoder)"}`,
	"huge.png":      "error: image is 20000×25000 (500.0 MP), over the 100 MP thumbnail limit",
}

// redTopLeft checks that a JPEG thumbnail is upright: red at the centre of
// its top-left quadrant, grey at the centre of its bottom-right one.
func redTopLeft(data []byte) bool {
	m, err := jpeg.Decode(bytes.NewReader(data))
	if err != nil {
		return false
	}
	b := m.Bounds()
	r, g, _, _ := m.At(b.Dx()/4, b.Dy()/4).RGBA()
	r2, _, _, _ := m.At(3*b.Dx()/4, 3*b.Dy()/4).RGBA()
	return r>>8 > 220 && g>>8 < 40 && r2>>8 < 160
}
