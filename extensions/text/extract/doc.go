// Package extract turns documents into plain text: plain text (UTF-8, or
// UTF-16 with a byte-order mark), Markdown, HTML, PDF, RTF, and the ZIP-based
// office and book formats DOCX, PPTX, XLSX, ODT, ODS, ODP and EPUB.
//
// Extract reads through an io.ReaderAt and never holds more than one bounded
// piece of the input at a time: files over Limits.MaxInput fail at once, text
// past Limits.MaxOutput is cut (Result.Truncated), every inflated stream and
// ZIP member is capped, and a panic on hostile input becomes that file's
// error. It is pure Go and builds for GOOS=wasip1.
package extract
