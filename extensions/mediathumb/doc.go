// Command mediathumb is Cairn's native (go-plugin, kind "process") companion
// of the thumbnail extension: its stage.mediathumb makes thumbnails of
// videos (a frame at 10% of the duration, or 1 s in, with ffmpeg) and of
// PDFs (the first page, with pdftoppm from poppler-utils), as sidecars of
// kind "thumb", variants "256" and "1024", format "jpg" — the same sidecars
// and outcome data as dev.cairn.thumbnail:
//
//	{"variants": [{"variant": "1024", "width": 1024, "height": 576, "format": "jpg"}, …], "tool": "ffmpeg", "frame_at_s": 1.2}
//
// Anything but a video (kind "video" or a video/* MIME type) or a PDF gets
// {"skipped": reason} (the manifest filter keeps them away). When the tool is
// not installed the item fails with the host ABI's missing-tool error,
// "missing tool ffmpeg (Debian package ffmpeg): video thumbnails are not
// available" (or pdftoppm and poppler-utils), which the host retries once
// the tool is there instead of recording a broken file. Each tool run has a
// deadline (config timeout_s, default 60 s) and is killed at it; a PDF over
// max_pdf_bytes (default 1 GiB) fails before any tool runs. The work is in
// package frame; this command is the plugin wrapper.
//
// Build with go build -trimpath -o mediathumb ./extensions/mediathumb.
package main
