// Package ignore decides which names the indexer skips while it walks, so ignored directories are
// never descended into. Rule sets, each switchable per location:
//
//   - system: .DS_Store, .AppleDouble, ._*, .Spotlight-V100, .fseventsd, .TemporaryItems,
//     .DocumentRevisions-V100, .Trashes, .Trash, .Trash-*, Thumbs.db, ehthumbs.db, desktop.ini,
//     $RECYCLE.BIN, System Volume Information, lost+found, .directory, Icon\r, *~
//   - vcs (directories): .git, .hg, .svn, .bzr, _darcs, CVS
//   - dev (directories): node_modules, bower_components, __pycache__, .cache, .venv, .tox, .nox,
//     .mypy_cache, .pytest_cache, .ruff_cache, .gradle, .next, .nuxt, .terraform, .stack-work,
//     dist-newstyle, .parcel-cache, .sass-cache; and target only beside a Cargo.toml
//   - nas (directories): @eaDir, #recycle, #snapshot, .snapshot, .snapshots, @Recycle,
//     .@__thumb, @tmp, .zfs
//   - hidden: names starting with '.' (off by default)
//   - ignore files: .gitignore, then .ignore, then .cairnignore in each directory, with git's
//     semantics (negation, anchoring, dir-only, *, ?, [...], **), deeper files overriding higher
//     ones and later lines overriding earlier ones; plus extra patterns from the location.
//
// A malformed line is skipped and reported as a warning; it never stops the walk. Matchers are
// immutable and safe for concurrent use: the walker gives each directory its own, derived from
// its parent's with Enter.
package ignore
