// Package detect tells a file's type — MIME type, content kind and name —
// from its name and its first bytes, driven by TOML definitions.
//
// The built-in definitions (definitions/*.toml, embedded) follow the format
// of REFERENCE.md §3: per type an id (the primary MIME type), a name,
// extensions, MIME aliases (mime_types), a category (the content kind), a
// priority 0–255 and [[magic_bytes]] with a hex pattern ("??" any byte,
// "00-1F" a byte range), an offset and a priority. The format is extended
// with: string patterns, a search window and ASCII case folding for magics,
// magics that must match at several offsets together ("and"), ZIP rules
// (member names or the "mimetype" member of ODF/EPUB), shebang
// interpreters, exact file names, and a text flag for formats that are text.
// See definitions/README.md.
//
// Users add or override types without rebuilding: New takes extra TOML
// documents, and a user type with a built-in's id replaces it.
//
// Detect reads at most 8 KiB of header, a few bytes at the far offsets of
// magics that need them (ISO 9660 at 32 KiB), and for ZIP files at most
// 64 KiB of central directory. It never reads a whole file. Content beats a
// wrong or missing extension: a PNG named .txt is image/png, a text file
// named .png is text/plain. Where file(1) --mime-type has a conventional
// answer, Detect gives the same MIME string.
package detect
