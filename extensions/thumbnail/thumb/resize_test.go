package thumb

import (
	"image"
	"math/rand/v2"
	"testing"
)

// opaqueImage hides an image's concrete type, forcing the generic path.
type opaqueImage struct{ image.Image }

// TestBoxShrinkFastPaths: every fast path (YCbCr in each subsampling, with
// odd bounds; NRGBA; Gray) agrees with the generic At path within rounding.
func TestBoxShrinkFastPaths(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	r := image.Rect(3, 5, 3+97, 5+61)
	var srcs []image.Image
	for _, ratio := range []image.YCbCrSubsampleRatio{image.YCbCrSubsampleRatio444, image.YCbCrSubsampleRatio422,
		image.YCbCrSubsampleRatio420, image.YCbCrSubsampleRatio440, image.YCbCrSubsampleRatio411, image.YCbCrSubsampleRatio410} {
		m := image.NewYCbCr(r, ratio)
		// In gamut (no RGB clamping), where averaging in YCbCr and in RGB
		// agree; at saturated edges they differ by the clamping.
		for i := range m.Y {
			m.Y[i] = uint8(60 + rng.IntN(131))
		}
		for i := range m.Cb {
			m.Cb[i], m.Cr[i] = uint8(98+rng.IntN(61)), uint8(98+rng.IntN(61))
		}
		srcs = append(srcs, m)
	}
	n := image.NewNRGBA(r)
	g := image.NewGray(r)
	for i := range n.Pix {
		n.Pix[i] = uint8(rng.IntN(256))
	}
	for i := range g.Pix {
		g.Pix[i] = uint8(rng.IntN(256))
	}
	srcs = append(srcs, n, g)
	for _, src := range srcs {
		for _, k := range []int{2, 3, 7} {
			fast, slow := boxShrink(src, k), boxShrink(opaqueImage{src}, k)
			for i := range fast.Pix {
				if d := int(fast.Pix[i]) - int(slow.Pix[i]); d > 3 || d < -3 {
					t.Fatalf("%T k=%d: byte %d is %d on the fast path, %d on the generic one", src, k, i, fast.Pix[i], slow.Pix[i])
				}
			}
		}
	}
}
