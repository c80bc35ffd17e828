package thumb

import (
	"bytes"
	"encoding/binary"
	"errors"
	"image"
	"image/color"
	"image/gif"
	"image/png"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/image/bmp"
	"golang.org/x/image/tiff"

	"github.com/cairnfs/cairn/internal/testtool"
)

// The pattern is 600×400 upright: the 1024 variant is not upscaled, the 256
// one is 256×171 (or 171×256 turned).
const pw, ph = 600, 400

func make1(t *testing.T, data []byte, mime string) []Thumb {
	t.Helper()
	th, err := Make(bytes.NewReader(data), int64(len(data)), mime, nil, Limits{})
	if err != nil {
		t.Fatalf("Make: %v", err)
	}
	if len(th) != 2 || th[0].Variant != 1024 || th[1].Variant != 256 {
		t.Fatalf("Make gave %d thumbnails %+v, want variants 1024 and 256", len(th), th)
	}
	checkOriginals(t, data, th)
	for i := range th {
		if th[i].Original { // the pattern checks read the image itself
			th[i].Data = data
		}
	}
	return th
}

// checkOriginals checks the rule of Thumb.Original on the thumbnails of data: no made
// thumbnail takes as many bytes as the image when the image could stand for itself, none is
// larger than the image, and an image stands for itself only in a format a viewer shows,
// upright as stored, when no larger than the variant or smaller in bytes than its thumbnail.
func checkOriginals(t *testing.T, data []byte, th []Thumb) {
	t.Helper()
	f := sniff(data)
	c, err := decoders[f].config(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	own := ownFormats[f]
	if Orientation(bytes.NewReader(data), int64(len(data)), f) > 1 {
		own = ""
	}
	for _, x := range th {
		switch {
		case x.Original && (own == "" || x.Format != own || x.Data != nil || x.Width != c.Width || x.Height != c.Height):
			t.Errorf("variant %d: original %+v of a %s %d×%d image (own format %q)", x.Variant, x, f, c.Width, c.Height, own)
		case x.Original:
		case own != "" && max(c.Width, c.Height) <= x.Variant:
			t.Errorf("variant %d: a %d×%d %s thumbnail of a %d×%d image: want the image itself", x.Variant, x.Width, x.Height, x.Format, c.Width, c.Height)
		case own != "" && len(x.Data) >= len(data):
			t.Errorf("variant %d: %d-byte thumbnail of a %d-byte image: want a smaller one", x.Variant, len(x.Data), len(data))
		case x.Width > max(c.Width, c.Height) || x.Height > max(c.Width, c.Height):
			t.Errorf("variant %d: %d×%d thumbnail of a %d×%d image is upscaled", x.Variant, x.Width, x.Height, c.Width, c.Height)
		}
	}
}

// TestOrientationJPEG: every EXIF orientation, written as an APP1 segment by
// hand in both byte orders, gives upright thumbnails of the right size.
func TestOrientationJPEG(t *testing.T) {
	u := upright(pw, ph)
	for o := 1; o <= 8; o++ {
		for _, bo := range []binary.ByteOrder{binary.BigEndian, binary.LittleEndian} {
			name := "orientation " + strconv.Itoa(o) + " " + bo.String()
			data := withAPP1(encodeJPEG(t, stored(u, o)), bo, o)
			if got := Orientation(bytes.NewReader(data), int64(len(data)), "jpeg"); got != o {
				t.Errorf("%s: Orientation = %d", name, got)
			}
			th := make1(t, data, "image/jpeg")
			if th[0].Format != FormatJPEG {
				t.Errorf("%s: format %s, want jpg", name, th[0].Format)
			}
			checkPattern(t, name, th[0], pw, ph)
			checkPattern(t, name, th[1], 256, 171)
		}
	}
}

// TestOrientationExiftool: the same with the tag written by exiftool, in
// JPEG, PNG (eXIf) and TIFF files.
func TestOrientationExiftool(t *testing.T) {
	testtool.Need(t, "exiftool", "libimage-exiftool-perl")
	u := upright(pw, ph)
	encoders := map[string]func(*bytes.Buffer, image.Image) error{
		"jpg":  func(b *bytes.Buffer, m image.Image) error { _, err := b.Write(encodeJPEG(t, m)); return err },
		"png":  func(b *bytes.Buffer, m image.Image) error { return png.Encode(b, m) },
		"tiff": func(b *bytes.Buffer, m image.Image) error { return tiff.Encode(b, m, nil) },
	}
	for ext, enc := range encoders {
		for o := 1; o <= 8; o++ {
			name := ext + " orientation " + strconv.Itoa(o)
			var b bytes.Buffer
			if err := enc(&b, stored(u, o)); err != nil {
				t.Fatal(err)
			}
			p := writeTemp(t, "x."+ext, b.Bytes())
			exiftool(t, p, o)
			data, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			if got := Orientation(bytes.NewReader(data), int64(len(data)), sniff(data)); got != o {
				t.Errorf("%s: Orientation = %d", name, got)
			}
			th := make1(t, data, "")
			checkPattern(t, name, th[0], pw, ph)
			checkPattern(t, name, th[1], 256, 171)
		}
	}
}

// TestOrientationWebP: a WebP made by ffmpeg, its EXIF chunk by exiftool.
func TestOrientationWebP(t *testing.T) {
	tools := testtool.NeedAll(t, testtool.Tool{Name: "ffmpeg", Package: "ffmpeg"}, testtool.Tool{Name: "exiftool", Package: "libimage-exiftool-perl"})
	var b bytes.Buffer
	if err := png.Encode(&b, stored(upright(pw, ph), 6)); err != nil {
		t.Fatal(err)
	}
	in := writeTemp(t, "in.png", b.Bytes())
	out := in[:len(in)-3] + "webp"
	if msg, err := exec.Command(tools["ffmpeg"], "-v", "error", "-i", in, "-lossless", "1", out).CombinedOutput(); err != nil {
		if testtool.InCI() {
			t.Fatalf("ffmpeg cannot encode WebP (CI=true: Debian's ffmpeg package can): %v %s", err, msg)
		}
		t.Skipf("ffmpeg cannot encode WebP here: %v %s", err, msg)
	}
	exiftool(t, out, 6)
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if got := Orientation(bytes.NewReader(data), int64(len(data)), "webp"); got != 6 {
		t.Errorf("Orientation = %d, want 6", got)
	}
	th := make1(t, data, "image/webp")
	checkPattern(t, "webp 6", th[0], pw, ph)
	checkPattern(t, "webp 6", th[1], 256, 171)
}

// TestFormats: each decodable format gives both variants, opaque ones as
// JPEG; never upscaled.
func TestFormats(t *testing.T) {
	u := upright(pw, ph)
	pal := image.NewPaletted(u.Bounds(), color.Palette{red, green, blue, white})
	for y := 0; y < ph; y++ {
		for x := 0; x < pw; x++ {
			pal.Set(x, y, u.At(x, y))
		}
	}
	enc := func(f func(*bytes.Buffer) error) []byte {
		var b bytes.Buffer
		if err := f(&b); err != nil {
			t.Fatal(err)
		}
		return b.Bytes()
	}
	for _, tc := range []struct {
		name string
		data []byte
	}{
		{"jpeg", encodeJPEG(t, u)},
		{"png", enc(func(b *bytes.Buffer) error { return png.Encode(b, u) })},
		{"gif", enc(func(b *bytes.Buffer) error { return gif.Encode(b, pal, nil) })},
		{"tiff", enc(func(b *bytes.Buffer) error { return tiff.Encode(b, u, &tiff.Options{Compression: tiff.Deflate}) })},
		{"bmp", enc(func(b *bytes.Buffer) error { return bmp.Encode(b, u) })},
	} {
		th := make1(t, tc.data, "")
		for _, x := range th {
			if !x.Original && x.Format != FormatJPEG && x.Format != FormatPNG {
				t.Errorf("%s: variant %d format %s, want jpg (or png, smaller than the image, for a flat one)", tc.name, x.Variant, x.Format)
			}
		}
		if tc.name == "tiff" && (th[0].Original || th[1].Original) {
			t.Errorf("tiff: %+v: a TIFF is never its own thumbnail (viewers do not show it)", th)
		}
		checkPattern(t, tc.name, th[0], pw, ph)
		checkPattern(t, tc.name, th[1], 256, 171) // never the 600×400 image itself
	}
}

// TestAlphaPNG: a PNG with transparent pixels gives PNG thumbnails that keep them.
func TestAlphaPNG(t *testing.T) {
	m := image.NewNRGBA(image.Rect(0, 0, 800, 400))
	for y := 0; y < 400; y++ {
		for x := 0; x < 800; x++ {
			if x >= 400 { // right half transparent
				continue
			}
			m.SetNRGBA(x, y, color.NRGBA{200, 50, 50, 255})
		}
	}
	var b bytes.Buffer
	if err := png.Encode(&b, m); err != nil {
		t.Fatal(err)
	}
	th := make1(t, b.Bytes(), "image/png")
	for _, x := range th {
		want := map[int][2]int{1024: {800, 400}, 256: {256, 128}}[x.Variant]
		if x.Format != FormatPNG || x.Width != want[0] || x.Height != want[1] {
			t.Fatalf("variant %d: %s %d×%d, want png %v", x.Variant, x.Format, x.Width, x.Height, want)
		}
		d, err := png.Decode(bytes.NewReader(x.Data))
		if err != nil {
			t.Fatal(err)
		}
		if _, _, _, a := d.At(x.Width*3/4, x.Height/2).RGBA(); a != 0 {
			t.Errorf("variant %d: right half alpha %d, want 0", x.Variant, a>>8)
		}
		if r, _, _, a := d.At(x.Width/4, x.Height/2).RGBA(); a>>8 != 255 || !near(r>>8, 200) {
			t.Errorf("variant %d: left half red %d alpha %d, want 200 opaque", x.Variant, r>>8, a>>8)
		}
	}
}

// hugePNG is a PNG header (signature and IHDR) declaring w×h pixels.
func hugePNG(w, h uint32) []byte {
	ihdr := binary.BigEndian.AppendUint32(nil, w)
	ihdr = binary.BigEndian.AppendUint32(ihdr, h)
	ihdr = append(ihdr, 8, 2, 0, 0, 0) // 8-bit RGB
	b := append([]byte("\x89PNG\r\n\x1a\n"), pngChunk("IHDR", ihdr)...)
	b = append(b, pngChunk("IDAT", []byte{0x78, 0x9c, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01})...)
	return append(b, pngChunk("IEND", nil)...)
}

// hugeJPEG is a JPEG whose SOF0 declares w×h pixels, then a scan of garbage.
func hugeJPEG(w, h uint16) []byte {
	sof := []byte{0xFF, 0xC0, 0, 17, 8, byte(h >> 8), byte(h), byte(w >> 8), byte(w), 3,
		1, 0x22, 0, 2, 0x11, 1, 3, 0x11, 1}
	b := append([]byte{0xFF, 0xD8}, sof...)
	b = append(b, 0xFF, 0xDA, 0, 12, 3, 1, 0, 2, 0x11, 3, 0x11, 0, 63, 0)
	return append(b, bytes.Repeat([]byte{0xAB}, 1000)...)
}

// TestTooLarge: a header declaring 500 MP fails before decoding, with the
// limit's message and almost no memory.
func TestTooLarge(t *testing.T) {
	for _, tc := range []struct {
		name string
		data []byte
	}{
		{"png", hugePNG(20000, 25000)},
		{"jpeg", hugeJPEG(20000, 25000)},
	} {
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		_, err := Make(bytes.NewReader(tc.data), int64(len(tc.data)), "", nil, Limits{})
		runtime.ReadMemStats(&after)
		const want = "image is 20000×25000 (500.0 MP), over the 100 MP thumbnail limit"
		if err == nil || err.Error() != want || !errors.Is(err, ErrTooLarge) {
			t.Errorf("%s: error %v, want %q", tc.name, err, want)
		}
		if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 1<<20 {
			t.Errorf("%s: allocated %d bytes before failing, want < 1 MiB", tc.name, alloc)
		}
	}
	// A lower limit from the caller, and the input size limit.
	small := encodeJPEG(t, upright(pw, ph))
	_, err := Make(bytes.NewReader(small), int64(len(small)), "", nil, Limits{MaxPixels: 100_000})
	if err == nil || err.Error() != "image is 600×400 (0.2 MP), over the 0.1 MP thumbnail limit" {
		t.Errorf("MaxPixels 100000: %v", err)
	}
	_, err = Make(bytes.NewReader(small), 3<<30, "", nil, Limits{})
	if !errors.Is(err, ErrTooLarge) || !strings.Contains(err.Error(), "3.0 GiB") {
		t.Errorf("a 3 GiB input: %v", err)
	}
}

// TestBadInput: truncated, unsupported and corrupt files fail with clear
// errors, never a panic.
func TestBadInput(t *testing.T) {
	full := encodeJPEG(t, upright(pw, ph))
	heic := append([]byte{0, 0, 0, 24}, "ftypheic\x00\x00\x00\x00mif1heic"...)
	avif := append([]byte{0, 0, 0, 20}, "ftypavif\x00\x00\x00\x00mif1"...)
	for _, tc := range []struct {
		name, mime string
		data       []byte
		want       string
		unsup      bool
	}{
		{"truncated jpeg", "image/jpeg", full[:len(full)/2], "decoding the JPEG image: the file is truncated", false},
		{"jpeg header only", "image/jpeg", full[:20], "reading the JPEG header: the file is truncated", false},
		{"heic", "image/heic", heic, "image format not supported for thumbnails: HEIC/HEIF (HEIC) cannot be decoded in pure Go (no HEVC decoder)", true},
		{"avif by bytes", "", avif, "image format not supported for thumbnails: AVIF cannot be decoded in pure Go (no AV1 decoder)", true},
		{"svg", "image/svg+xml", []byte("<html>not svg</html>"), "image format not supported for thumbnails: reading the SVG header: the root element is <html>", true},
		{"large svg", "image/svg+xml", append([]byte(`<svg width="10" height="10">`), bytes.Repeat([]byte("<!-- x -->"), MaxOriginalSVG/10+1)...),
			"image format not supported for thumbnails: SVG rendering (no pure-Go renderer), and at", true},
		{"empty", "", nil, "image format not supported for thumbnails: not a JPEG, PNG, GIF, WebP, TIFF or BMP file", true},
		{"zero size png", "", hugePNG(0, 10), "reading the PNG header", false},
	} {
		_, err := Make(bytes.NewReader(tc.data), int64(len(tc.data)), tc.mime, nil, Limits{})
		if err == nil || !strings.HasPrefix(err.Error(), tc.want) || errors.Is(err, ErrUnsupported) != tc.unsup {
			t.Errorf("%s: %v, want %q (unsupported %v)", tc.name, err, tc.want, tc.unsup)
		}
	}
	// Every prefix of a JPEG, PNG and GIF: an error, no panic.
	for _, data := range [][]byte{full, hugePNG(10, 10)} {
		for n := 0; n < len(data); n += 1 + n/8 {
			Make(bytes.NewReader(data[:n]), int64(n), "", nil, Limits{})
		}
	}
}

type panicReader struct{}

func (panicReader) ReadAt(p []byte, off int64) (int, error) {
	if off > 0 {
		panic("boom")
	}
	return copy(p, "\x89PNG\r\n\x1a\n"), nil
}

func TestPanicRecovered(t *testing.T) {
	_, err := Make(panicReader{}, 100, "", nil, Limits{})
	if err == nil || !strings.Contains(err.Error(), "crashed the decoder") || !strings.Contains(err.Error(), "boom") {
		t.Errorf("error %v, want the recovered panic", err)
	}
}

func TestVariants(t *testing.T) {
	data := encodeJPEG(t, upright(pw, ph))
	th, err := Make(bytes.NewReader(data), int64(len(data)), "", []int{64, 512, 64, 300}, Limits{})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, x := range th {
		got = append(got, strconv.Itoa(x.Variant)+":"+strconv.Itoa(x.Width)+"x"+strconv.Itoa(x.Height))
	}
	if s := strings.Join(got, " "); s != "512:512x341 300:300x200 64:64x43" {
		t.Errorf("variants: %s", s)
	}
	for _, bad := range [][]int{{0}, {-5}, {MaxVariant + 1}} {
		if _, err := Make(bytes.NewReader(data), int64(len(data)), "", bad, Limits{}); err == nil {
			t.Errorf("variants %v: no error", bad)
		}
	}
	if _, err := Generate(bytes.NewReader(data), int64(len(data)), "", Options{Quality: 101}); err == nil {
		t.Error("quality 101: no error")
	}
}

func TestFit(t *testing.T) {
	for _, tc := range []struct{ w, h, v, ww, wh int }{
		{4000, 3000, 1024, 1024, 768}, {3000, 4000, 256, 192, 256}, {300, 200, 1024, 300, 200},
		{300, 200, 256, 256, 171}, {10000, 1, 256, 256, 1}, {1, 1, 256, 1, 1}, {256, 256, 256, 256, 256},
	} {
		if w, h := fit(tc.w, tc.h, tc.v); w != tc.ww || h != tc.wh {
			t.Errorf("fit(%d, %d, %d) = %d×%d, want %d×%d", tc.w, tc.h, tc.v, w, h, tc.ww, tc.wh)
		}
	}
}

// TestOriginalIsThumbnail: an image no larger than a variant is its own thumbnail for it (no
// upscaled or same-size copy); a larger one gets a thumbnail of the variant's size that takes
// fewer bytes than the image (a PNG when its JPEG would not); an image a
// viewer would not show upright (EXIF orientation) or at all (TIFF) gets made thumbnails; a
// small SVG is its own thumbnail, with its size.
func TestOriginalIsThumbnail(t *testing.T) {
	noisy := func(w, h int) *image.RGBA {
		m := image.NewRGBA(image.Rect(0, 0, w, h))
		for i := range m.Pix {
			m.Pix[i] = byte(i*7919 + i/3)
		}
		return m
	}
	var flat bytes.Buffer
	png.Encode(&flat, image.NewGray(image.Rect(0, 0, 2000, 1000))) // 2000×1000 black: a few KiB
	var smallTIFF bytes.Buffer
	tiff.Encode(&smallTIFF, noisy(100, 80), nil)
	for _, tc := range []struct {
		name     string
		data     []byte
		original [2]bool // variant 1024, 256
	}{
		{"small jpeg", encodeJPEG(t, noisy(100, 80)), [2]bool{true, true}},
		{"600×400 jpeg", encodeJPEG(t, noisy(pw, ph)), [2]bool{true, false}},
		{"small rotated jpeg", withAPP1(encodeJPEG(t, noisy(100, 80)), binary.BigEndian, 6), [2]bool{false, false}},
		{"small tiff", smallTIFF.Bytes(), [2]bool{false, false}},
		{"large flat png", flat.Bytes(), [2]bool{false, false}}, // its 1024 px JPEG is larger: a PNG instead
	} {
		th, err := Make(bytes.NewReader(tc.data), int64(len(tc.data)), "", nil, Limits{})
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		checkOriginals(t, tc.data, th)
		if got := [2]bool{th[0].Original, th[1].Original}; got != tc.original {
			t.Errorf("%s (%d bytes): originals %v, want %v (thumbnails of %d and %d bytes)", tc.name, len(tc.data), got, tc.original, len(th[0].Data), len(th[1].Data))
		}
	}
	svg := []byte(`<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 48 32"><rect width="48" height="32"/></svg>`)
	th, err := Make(bytes.NewReader(svg), int64(len(svg)), "image/svg+xml", nil, Limits{})
	if err != nil || len(th) != 2 {
		t.Fatalf("svg: %+v %v", th, err)
	}
	for _, x := range th {
		if !x.Original || x.Format != "svg" || x.Width != 48 || x.Height != 32 || x.Data != nil {
			t.Errorf("svg variant %d: %+v, want the SVG itself, 48×32", x.Variant, x)
		}
	}
}

// TestRenderedIsNeverOriginal: a rendering (a video frame, a PDF page) is not a file of the
// library, so even a small one gets encoded thumbnails (mediathumb stored empty sidecars when a
// frame was "its own thumbnail").
func TestRenderedIsNeverOriginal(t *testing.T) {
	var small bytes.Buffer
	png.Encode(&small, image.NewGray(image.Rect(0, 0, 64, 48)))
	th, err := Generate(bytes.NewReader(small.Bytes()), int64(small.Len()), "image/png", Options{Rendered: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, x := range th {
		if x.Original || len(x.Data) == 0 || x.Format != FormatJPEG {
			t.Errorf("variant %d of a rendering: %+v; want an encoded JPEG", x.Variant, x)
		}
	}
}
