// Package thumb makes thumbnails of images in pure Go, for Cairn's
// thumbnail extension (a WASM module) and for native tests and benchmarks.
//
// Make decodes an image once (JPEG, PNG, GIF's first frame, WebP, TIFF, BMP),
// after checking its declared dimensions against Limits.MaxPixels with the
// format's DecodeConfig, so a 500-megapixel header fails before any pixel
// buffer is allocated. It then makes one thumbnail per variant (the variant is
// the longest edge in pixels; an image is never upscaled), from the largest
// down: the largest from the decoded image, each smaller one from the one
// before. Each reduction is a box (area-average) pre-shrink to at most twice
// the target, then Catmull-Rom resampling (golang.org/x/image/draw) to the
// exact size, which is both sharp and free of aliasing at large factors.
//
// The EXIF Orientation tag (1–8) is read by a small bounded parser of its own
// (JPEG APP1, TIFF IFD0, WebP EXIF chunk, PNG eXIf) and applied to each
// thumbnail, so thumbnails are upright. Opaque images give JPEG thumbnails,
// images with any transparent pixel PNG ones (pure Go has no WebP encoder).
//
// HEIC, HEIF and AVIF cannot be decoded in pure Go: Make returns an error
// matching ErrUnsupported, as it does for other formats it does not know.
// A panic in a decoder is recovered into Make's error.
package thumb
