// Package probe reads the metadata of image, audio and video files without
// decoding them: dimensions, EXIF orientation, date taken, GPS position,
// camera and lens; duration, codec and stream parameters.
//
// Probe reads only the headers it needs through an io.ReaderAt, caps every
// length field before it allocates (see the Max* constants), and turns a
// panic into an error, so a hostile file costs a few small reads and fails
// alone. It is pure Go and builds for GOOS=wasip1.
//
// Formats: JPEG, PNG, GIF, WebP, TIFF (and TIFF-based raw such as DNG), BMP,
// HEIC/HEIF/AVIF, SVG (width and height from the root <svg>'s width, height
// and viewBox, in CSS pixels); MP4/MOV/M4A (ISO-BMFF), Matroska/WebM, MP3, FLAC, WAV
// (and RF64), Ogg (Vorbis, Opus, FLAC, Theora). Anything else is
// ErrUnsupported; a recognised but broken file is an error that wraps
// ErrMalformed and says what was wrong where.
package probe
