//go:build !wasip1

package main

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"testing"
	"testing/fstest"

	"github.com/cairnfs/cairn/sdk/exttest"
)

// BenchmarkStage compares stage.media as WASM with the same code natively (files/s of each
// sub-benchmark), over 64 JPEG and 64 PNG files of 640×480.
func BenchmarkStage(b *testing.B) {
	files := fstest.MapFS{}
	img := image.NewRGBA(image.Rect(0, 0, 640, 480))
	for y := range 480 {
		for x := range 640 {
			img.Set(x, y, color.RGBA{uint8(x), uint8(y), uint8(x ^ y), 255})
		}
	}
	var j, p bytes.Buffer
	jpeg.Encode(&j, img, nil)
	png.Encode(&p, img)
	for i := range 64 {
		files[fmt.Sprintf("img/%02d.jpg", i)] = &fstest.MapFile{Data: append(bytes.Clone(j.Bytes()), byte(i)), Mode: 0o644}
		files[fmt.Sprintf("img/%02d.png", i)] = &fstest.MapFile{Data: append(bytes.Clone(p.Bytes()), byte(i)), Mode: 0o644}
	}
	exttest.StageBench{Dir: ".", Stage: "stage.media", Files: files, Native: media.Handle}.Run(b)
}
