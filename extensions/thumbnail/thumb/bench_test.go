package thumb

import (
	"bytes"
	"image"
	"image/jpeg"
	"math"
	"math/rand/v2"
	"sync"
	"testing"

	"golang.org/x/image/draw"
)

// photo12MP is a 4000×3000 JPEG (quality 90) of gradients and noise, a
// stand-in for a 12-megapixel camera photo.
var photo12MP = sync.OnceValue(func() []byte {
	const w, h = 4000, 3000
	m := image.NewYCbCr(image.Rect(0, 0, w, h), image.YCbCrSubsampleRatio420)
	rng := rand.New(rand.NewPCG(1, 2))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			m.Y[y*m.YStride+x] = uint8((x*255/w+y*255/h)/2 + rng.IntN(24))
		}
	}
	for i := range m.Cb {
		m.Cb[i] = uint8(96 + i%64)
		m.Cr[i] = uint8(160 - i%48)
	}
	var b bytes.Buffer
	if err := jpeg.Encode(&b, m, &jpeg.Options{Quality: 90}); err != nil {
		panic(err)
	}
	return b.Bytes()
})

// BenchmarkMake12MP is Make on a 12 MP JPEG, variants 256 and 1024: decode,
// resize and encode.
func BenchmarkMake12MP(b *testing.B) {
	data := photo12MP()
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Make(bytes.NewReader(data), int64(len(data)), "image/jpeg", nil, Limits{}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDecode12MP is the decode alone, for the share of Make it takes.
func BenchmarkDecode12MP(b *testing.B) {
	data := photo12MP()
	for b.Loop() {
		if _, err := jpeg.Decode(bytes.NewReader(data)); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkResize12MP compares ways to make the 1024 px variant of a
// decoded 12 MP photo: the box pre-shrink then Catmull-Rom that resize uses,
// Catmull-Rom alone, and x/image/draw's ApproxBiLinear (fast, but it samples
// 4 source pixels per output pixel: aliased at a 4× reduction).
func BenchmarkResize12MP(b *testing.B) {
	src, err := jpeg.Decode(bytes.NewReader(photo12MP()))
	if err != nil {
		b.Fatal(err)
	}
	scale := func(s draw.Scaler) func() *image.RGBA {
		return func() *image.RGBA {
			dst := image.NewRGBA(image.Rect(0, 0, 1024, 768))
			s.Scale(dst, dst.Bounds(), src, src.Bounds(), draw.Src, nil)
			return dst
		}
	}
	for _, tc := range []struct {
		name string
		f    func() *image.RGBA
	}{
		{"box+catmullrom", func() *image.RGBA { return resize(src, 1024, 768) }},
		{"catmullrom", scale(draw.CatmullRom)},
		{"approxbilinear", scale(draw.ApproxBiLinear)},
	} {
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				tc.f()
			}
		})
	}
}

// TestResizeQuality measures aliasing: a fine checkerboard (cells of 1, 2
// and 3 pixels) of a 4000×3000 image averages to a flat 127.5 grey, so the
// mean distance of a 1024×768 result from 127.5 is the resampler's moiré.
// resize (box pre-shrink, then Catmull-Rom) must be as clean as Catmull-Rom
// alone; ApproxBiLinear is logged for comparison (it is 30–90 off).
func TestResizeQuality(t *testing.T) {
	for _, tc := range []struct{ w, h, cell int }{
		{4000, 3000, 1}, {4000, 3000, 2}, {4000, 3000, 3}, {2662, 1997, 1}, {2662, 1997, 2}, {5200, 3900, 3},
	} {
		w, h, cell := tc.w, tc.h, tc.cell
		src := image.NewGray(image.Rect(0, 0, w, h))
		for y := 0; y < h; y++ {
			for x := 0; x < w; x++ {
				if (x/cell+y/cell)%2 == 0 {
					src.Pix[y*src.Stride+x] = 255
				}
			}
		}
		moire := func(m *image.RGBA) float64 {
			var sum float64
			for i := 0; i < len(m.Pix); i += 4 {
				sum += math.Abs(float64(m.Pix[i]) - 127.5)
			}
			return sum / float64(len(m.Pix)/4)
		}
		scaled := func(s draw.Scaler) *image.RGBA {
			dst := image.NewRGBA(image.Rect(0, 0, 1024, 768))
			s.Scale(dst, dst.Bounds(), src, src.Bounds(), draw.Src, nil)
			return dst
		}
		ours, cr, bil := moire(resize(src, 1024, 768)), moire(scaled(draw.CatmullRom)), moire(scaled(draw.ApproxBiLinear))
		t.Logf("%d×%d, cell %d px: mean distance from flat grey: box+catmullrom %.1f, catmullrom %.1f, approxbilinear %.1f", w, h, cell, ours, cr, bil)
		if ours > cr+1 || ours > 5 {
			t.Errorf("cell %d px: box+catmullrom %.1f off flat grey, want ≤ %.1f", cell, ours, min(cr+1, 5))
		}
	}
}
