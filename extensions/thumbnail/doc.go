// Command thumbnail is Cairn's first-party thumbnail extension, a WASM
// module built with sdk/cairn: its stage.thumbnail makes upright thumbnails
// (EXIF orientation applied) of JPEG, PNG, GIF, WebP, TIFF and BMP images
// with the pure-Go package thumb, and stores each as a sidecar of kind
// "thumb", variant "256" or "1024", format "jpg" (opaque images) or "png"
// (images with transparency).
//
// No thumbnail is larger than the image it stands for, and none is upscaled:
// an image no larger than a variant (both edges ≤ it), or one whose thumbnail
// would take at least as many bytes as the image, is its own thumbnail for
// that variant. The stage records that sidecar with storage "content" (host
// ABI 1.1, no copy; the variant's format is the image's own: jpg, png, gif,
// webp or bmp). TIFF (which browsers do not show) and images with an EXIF
// orientation other than 1 (a thumbnail is upright as stored) always get made
// thumbnails.
//
// SVG is not rendered (there is no honest pure-Go renderer). An SVG of at
// most 128 KiB is its own thumbnail for every variant (browsers and image
// widgets show SVG; <img> runs no script), with its size from the root's
// width/height/viewBox; a larger one is {"unsupported": "… SVG rendering …"},
// an outcome, not a failure, so it is not retried.
//
// Each item's outcome data, which the host stores as the metadata
// "stage:stage.thumbnail" of the content, lists what was made:
//
//	{"variants": [{"variant": "1024", "width": 1024, "height": 768, "format": "jpg"}, …]}
//
// ("storage": "content" on a variant the image itself stands for)
// or, for a format pure Go cannot decode (HEIC, AVIF, …),
//
//	{"unsupported": "image format not supported for thumbnails: …"}
//
// Limits (a 500-megapixel header, a truncated file) and decoder failures
// fail that item with a clear error; a panic is recovered into the item's
// error and the batch goes on. Config (cairn.toml [config]): variants
// (default [256, 1024]), max_megapixels (default 100), quality (default 80).
//
// No module is committed: build it with
//
//	GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -trimpath -o thumbnail.wasm ./extensions/thumbnail
package main
