// Package pipeline is the pipeline definition contract (pipelines.toml): its Go types, parsing
// with errors that name the line and reason, filter matching, and resolution of a pipeline's
// steps against the installed stages into dependency order. The JSON Schema in
// schemas/pipeline.schema.json describes the same document for other tools; golden examples
// live in testdata/. It imports nothing from the kernel.
//
// # The pipelines file
//
// One TOML document defines any number of pipelines, each a [pipeline.NAME] table (NAME:
// lowercase letters, digits, '-' and '_', starting with a letter or digit) with an array of
// [[pipeline.NAME.stage]] tables, run in dependency order:
//
//	[pipeline.thumbs]
//	description = "thumbnails only for Pictures/** images over 100 KB"
//	locations = ["~/Photos"]          # optional, informational (and `location add --pipeline`)
//
//	[[pipeline.thumbs.stage]]
//	id = "stage.filetype"
//
//	[[pipeline.thumbs.stage]]
//	id = "stage.thumbnail"
//	kinds = ["image"]
//	globs = ["Pictures/**"]
//	min_size = "100 KB"
//	config = { variants = [256] }
//
// Keys of a pipeline: description (string), locations (array of strings), stage (array of
// tables, at least one). Keys of a stage:
//
//   - id (required): the stage id, "stage.<name>", as an installed extension's manifest declares
//     it. A stage may appear once per pipeline.
//   - kinds: content kinds (REFERENCE.md §3: image, video, audio, document, text, code, …).
//   - mimes: MIME types, exact ("image/png") or a whole type ("image/*"), lowercase. kinds and
//     mimes are alternatives: a file passes if its kind is listed or its MIME type matches; with
//     neither, every type passes. The stage's own manifest filter applies as well: a step with
//     kinds = ["video", "document"] hands stage.mediathumb (manifest: videos and PDFs) only
//     videos and PDFs, and `cairn pipeline status` counts the same contents a run hands over.
//   - globs, exclude_globs: gitignore-style patterns on the path relative to the location root.
//     A pattern without a slash ("*.jpg") matches a name at any depth; one with a slash
//     ("Pictures/**", "/notes.txt") is anchored at the root; "*", "?" and "[abc]" / "[!abc]"
//     match within a name, "**" across directories; a pattern that matches a directory selects
//     all it contains; a trailing "/" matches directories only. A file passes if it matches any
//     of globs (or there are none) and none of exclude_globs.
//   - min_size, max_size: bytes, as an integer or a string: "4096", "100 KB", "100KiB",
//     "1.5 MB", "2GB" (KB, MB, … EB powers of 1000; KiB, MiB, … EiB powers of 1024). max_size 0 or
//     absent: no limit.
//   - config: a table passed to the stage as a JSON object and validated against the JSON Schema
//     of the stage's config (at Resolve time, when the installed stages are known).
//
// Unknown keys, wrong types, bad names, pipelines without stages, unknown kinds, bad MIME
// patterns or globs, bad sizes and min_size > max_size are errors; Parse reports all of them
// (Validate adds what Resolve finds against a Catalog, e.g. one built from manifests with
// CatalogOf: unknown stages, config values of the wrong type or out of range),
// each an *Error with file, line, pipeline, stage and reason, e.g.
//
//	pipelines.toml:12: pipeline "thumbs", stage stage.thumbnail: min_size: "100 XB" is not a size: …
//
// The built-in pipeline "default" (default.toml, see Default) runs stage.filetype on everything,
// stage.media on images, video and audio, stage.text on text-like kinds up to 256 MiB,
// stage.thumbnail on images and stage.mediathumb on video and documents.
package pipeline
