// Command media is Cairn's first-party media metadata extension, a WASM
// module built with sdk/cairn: its stage.media reads each image, audio and
// video file's headers with package probe (no decoding) and returns the
// media object as the item's outcome data, which the host stores as the
// metadata "stage:stage.media" of the content in the namespace
// dev.cairn.media, and `cairn show` prints as "media":
//
//	{"width":4032,"height":3024,"orientation":6,"taken_at":"2023-04-05T10:11:12+02:00",
//	 "gps":{"lat":-33.8568,"lon":151.2153},"camera_make":"Apple","camera_model":"iPhone 12",
//	 "lens":"…","duration_s":12.5,"codec":"h264","sample_rate":48000,"channels":2,…}
//
// Absent fields are omitted. A file in a format probe does not read gets
// the empty object {}; a malformed file fails with probe's error; either
// way the rest of the batch goes on. The extension requests only
// content.read (cairn.toml).
//
// No module is committed: build it with
//
//	GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -trimpath -o media.wasm ./extensions/media
package main
