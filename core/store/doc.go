// Package store is the kernel's entry store: the SQLite schema of a library (numbered migrations
// embedded in the binary), and typed, streaming access to devices, locations, entries, directory
// paths, content identities, the pipeline ledger and job rows.
//
// The tree is stored as parent_id + name on every entry, plus a dir_paths row (path relative to the
// location root) for each directory. A subtree query is a range scan over dir_paths; a move or
// rename rewrites one entry row and the dir_paths rows of the directories below it, never the
// files below it. RATIONALE.md and BenchmarkMoveSubtree compare this with full materialized paths.
package store
