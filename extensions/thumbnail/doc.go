// Command thumbnail is Cairn's first-party thumbnail extension, a WASM
// module built with sdk/cairn: its stage.thumbnail makes upright thumbnails
// (EXIF orientation applied) of JPEG, PNG, GIF, WebP, TIFF and BMP images
// with the pure-Go package thumb, and stores each as a sidecar of kind
// "thumb", variant "256" or "1024", format "jpg" (opaque images) or "png"
// (images with transparency).
//
// Each item's outcome data, which the host stores as the metadata
// "stage:stage.thumbnail" of the content, lists what was made:
//
//	{"variants": [{"variant": "1024", "width": 1024, "height": 768, "format": "jpg"}, …]}
//
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
