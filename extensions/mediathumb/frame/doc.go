// Package frame makes thumbnails of videos and PDFs with external tools:
// a frame of a video with ffmpeg (at 10% of its duration as ffprobe reports
// it, or 1 s in), the first page of a PDF with pdftoppm (poppler-utils).
// The tool renders one lossless PNG at the largest variant's size (ffmpeg
// scales down only; pdftoppm renders the page to that size), and package
// thumb makes every variant from it: the same sizes, formats and
// resampling as image thumbnails.
//
// A missing tool is an error that says so and what to install
// (ErrToolMissing). Each child runs under a deadline in its own process
// group, killed whole when the deadline passes or the caller's context is
// done (and, on Linux, when this process dies); its output is capped.
package frame
