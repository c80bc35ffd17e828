package thumb

import (
	"image"
	"image/color"

	"golang.org/x/image/draw"
)

// resize returns src scaled to w×h as premultiplied RGBA: a box
// (area-average) pre-shrink by an integer factor to 1–2× the target, then Catmull-Rom to the exact size. Catmull-Rom alone from a large
// image is slow (its kernel widens with the factor) and needs a float64
// buffer of w × src height × 32 bytes; the pre-shrink keeps both small.
func resize(src image.Image, w, h int) *image.RGBA {
	b := src.Bounds()
	if b.Dx() == w && b.Dy() == h {
		if rgba, ok := src.(*image.RGBA); ok {
			return rgba
		}
		dst := image.NewRGBA(image.Rect(0, 0, w, h))
		draw.Draw(dst, dst.Bounds(), src, b.Min, draw.Src)
		return dst
	}
	// k is the pre-shrink factor: the box result stays between 1× and 2× the
	// target, where Catmull-Rom is as clean as from the full image.
	if k := (min(b.Dx()/w, b.Dy()/h) + 1) / 2; k >= 2 {
		src = boxShrink(src, k)
		b = src.Bounds()
		if b.Dx() == w && b.Dy() == h {
			return src.(*image.RGBA)
		}
	}
	dst := image.NewRGBA(image.Rect(0, 0, w, h))
	draw.CatmullRom.Scale(dst, dst.Bounds(), src, b, draw.Src, nil)
	return dst
}

// boxShrink averages each k×k block of src into one pixel (blocks at the
// right and bottom edges may be partial), in premultiplied RGBA. YCbCr
// sources (JPEG) are averaged in YCbCr and converted once per output pixel:
// the conversion is affine, so that is the same average at a fraction of
// the cost.
func boxShrink(src image.Image, k int) *image.RGBA {
	b := src.Bounds()
	ow, oh := (b.Dx()+k-1)/k, (b.Dy()+k-1)/k
	dst := image.NewRGBA(image.Rect(0, 0, ow, oh))
	acc := make([]uint32, ow*4)
	row, ycc := rowReader(src)
	for oy := 0; oy < oh; oy++ {
		clear(acc)
		y0 := b.Min.Y + oy*k
		y1 := min(y0+k, b.Max.Y)
		for y := y0; y < y1; y++ {
			row(y, k, acc)
		}
		rows := uint32(y1 - y0)
		d := dst.Pix[oy*dst.Stride : oy*dst.Stride+ow*4]
		for ox := 0; ox < ow; ox++ {
			cols := uint32(min(k, b.Dx()-ox*k))
			n := rows * cols
			a, p := acc[ox*4:ox*4+4], d[ox*4:ox*4+4]
			for c := range 4 {
				p[c] = uint8((a[c] + n/2) / n)
			}
			if ycc {
				p[0], p[1], p[2] = color.YCbCrToRGB(p[0], p[1], p[2])
			}
		}
	}
	return dst
}

// rowReader returns a function adding row y of src into acc, columns grouped
// by k (acc[ox*4+c] += channel c of pixels ox*k … ox*k+k-1), with fast
// paths for the types the decoders return most. The channels are
// premultiplied RGBA, or Y, Cb, Cr and 255 when ycc is true.
func rowReader(src image.Image) (row func(y, k int, acc []uint32), ycc bool) {
	b := src.Bounds()
	switch m := src.(type) {
	case *image.YCbCr:
		hs := map[image.YCbCrSubsampleRatio]uint{image.YCbCrSubsampleRatio422: 1, image.YCbCrSubsampleRatio420: 1,
			image.YCbCrSubsampleRatio411: 2, image.YCbCrSubsampleRatio410: 2}[m.SubsampleRatio] // log2 of horizontal chroma subsampling
		return func(y, k int, acc []uint32) {
			yr := m.Y[m.YOffset(b.Min.X, y):]
			ci := m.COffset(b.Min.X, y)
			cb, cr := m.Cb[ci:], m.Cr[ci:]
			for i := 0; i < b.Dx(); i++ {
				c := (b.Min.X+i)>>hs - b.Min.X>>hs
				a := acc[i/k*4 : i/k*4+4]
				a[0] += uint32(yr[i])
				a[1] += uint32(cb[c])
				a[2] += uint32(cr[c])
				a[3] += 255
			}
		}, true
	case *image.RGBA:
		return func(y, k int, acc []uint32) {
			p := m.Pix[m.PixOffset(b.Min.X, y):]
			for i := 0; i < b.Dx(); i++ {
				a := acc[i/k*4:]
				a[0] += uint32(p[i*4])
				a[1] += uint32(p[i*4+1])
				a[2] += uint32(p[i*4+2])
				a[3] += uint32(p[i*4+3])
			}
		}, false
	case *image.NRGBA:
		return func(y, k int, acc []uint32) {
			p := m.Pix[m.PixOffset(b.Min.X, y):]
			for i := 0; i < b.Dx(); i++ {
				a := acc[i/k*4:]
				al := uint32(p[i*4+3])
				a[0] += (uint32(p[i*4])*al + 127) / 255
				a[1] += (uint32(p[i*4+1])*al + 127) / 255
				a[2] += (uint32(p[i*4+2])*al + 127) / 255
				a[3] += al
			}
		}, false
	case *image.Gray:
		return func(y, k int, acc []uint32) {
			p := m.Pix[m.PixOffset(b.Min.X, y):]
			for i := 0; i < b.Dx(); i++ {
				a := acc[i/k*4:]
				v := uint32(p[i])
				a[0] += v
				a[1] += v
				a[2] += v
				a[3] += 255
			}
		}, false
	}
	return func(y, k int, acc []uint32) {
		for x := b.Min.X; x < b.Max.X; x++ {
			r, g, bl, al := src.At(x, y).RGBA()
			a := acc[(x-b.Min.X)/k*4:]
			a[0] += r >> 8
			a[1] += g >> 8
			a[2] += bl >> 8
			a[3] += al >> 8
		}
	}, false
}

// opaque reports whether every pixel of m is fully opaque.
func opaque(m *image.RGBA) bool {
	for y := 0; y < m.Rect.Dy(); y++ {
		p := m.Pix[y*m.Stride : y*m.Stride+m.Rect.Dx()*4]
		for i := 3; i < len(p); i += 4 {
			if p[i] != 0xFF {
				return false
			}
		}
	}
	return true
}

// orient returns m turned upright according to an EXIF orientation (1–8;
// anything else is 1, m itself).
func orient(m *image.RGBA, o int) *image.RGBA {
	if o < 2 || o > 8 {
		return m
	}
	w, h := m.Rect.Dx(), m.Rect.Dy()
	dw, dh := w, h
	if o >= 5 {
		dw, dh = h, w
	}
	dst := image.NewRGBA(image.Rect(0, 0, dw, dh))
	for dy := 0; dy < dh; dy++ {
		for dx := 0; dx < dw; dx++ {
			var sx, sy int
			switch o {
			case 2: // mirrored horizontally
				sx, sy = w-1-dx, dy
			case 3: // rotated 180°
				sx, sy = w-1-dx, h-1-dy
			case 4: // mirrored vertically
				sx, sy = dx, h-1-dy
			case 5: // transposed
				sx, sy = dy, dx
			case 6: // needs a 90° clockwise turn
				sx, sy = dy, h-1-dx
			case 7: // transversed
				sx, sy = w-1-dy, h-1-dx
			case 8: // needs a 90° counter-clockwise turn
				sx, sy = w-1-dy, dx
			}
			s := m.PixOffset(m.Rect.Min.X+sx, m.Rect.Min.Y+sy)
			d := dy*dst.Stride + dx*4
			copy(dst.Pix[d:d+4], m.Pix[s:s+4])
		}
	}
	return dst
}
