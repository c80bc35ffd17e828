// Package treegen generates deterministic synthetic home-directory trees for benchmarks and tests,
// so that `cairn bench index` and the Go benchmarks need nothing outside the repository.
//
// The shape follows /work/shared/bench/make-tree.sh: areas like a home directory (src/ with code
// projects and a thin tail of deep nested-dependency chains, .local/state/ with a hashed fan-out,
// .local/share/, .config/, Documents/, Downloads/, Pictures/YYYY/MM, Music/Artist/Album, Videos/,
// Mail/ maildirs, Desktop/, backup/, and four dotfiles in the root); lognormal (heavy-tailed) files
// per directory with a sub-directory fan-out that shrinks with depth, so file depth peaks at about
// 5 and thins out by 12-15; lognormal sizes per file class; about 5% of files duplicate the
// content of an earlier file (copies elsewhere or "x (1).jpg" / "Copy of x.jpg" beside it) and
// 0.5% are empty. Binary files start with their format's magic bytes; text files hold
// Zipf-distributed pseudo-words. Names include spaces, capitals and a few non-ASCII characters.
//
// Sizes are scaled down so that a million files fit in a few GiB: the median file is about
// 1.6 KB, the mean about 3.6 KB, 1 in 1,000 files exceeds 100 KB and none exceeds 512 KiB
// (Options.SizeScale multiplies every size and cap). At the defaults, 100,000 files make about
// 10,150 directories and 361 MB of content, 635 MiB on ext4 with 4 KiB blocks (so ~3.6 GB and
// ~6.2 GiB per million files).
//
// # Determinism
//
// The same Options (apart from Workers) always give the same paths, sizes, bytes, and mtimes of
// files, directories and symlinks (atime is set equal to mtime). Planning is sequential and
// driven by one seeded PRNG; each file's bytes come from its own seed, so parallel writers do not
// change the result. Planning keeps bounded state (a ring of recent files and a reservoir sample
// for duplicate sources) plus about 100 bytes per directory, and batches flow to the writers as
// they are planned: planning a million files takes under a second and ~25 MiB of heap.
// Version changes whenever the same Options would give a different tree, so callers that cache
// generated trees can put it in their cache key.
//
// # Speed
//
// Writers create each directory's entries relative to its descriptor (openat, write, utimensat,
// close; mkdirat for its subdirectories), several directories at once. On tmpfs 100,000 files
// take about 1 s (100k files/s, CPU-bound). On ext4 they took 1.8-5.4 s on the 2-core
// development VM (18k-55k files/s), so a million files take about a minute; right after a large
// tree was deleted it can be several times slower, because ext4 without a journal skips recently
// freed inodes one by one when allocating (recently_deleted in fs/ext4/ialloc.c).
//
// # Ignore rules
//
// Nothing generated is dropped by Cairn's default ignore rules (package core/ignore): no name is
// in the system, VCS, dev or NAS lists (no node_modules, .cache, .git, __pycache__, target, ...),
// none starts with "._" or ends with "~", and no .gitignore, .ignore or .cairnignore file is
// written, so find, fd -HI and cairn all see the whole tree. The test checks this against
// core/ignore itself.
//
// Hidden names do occur, and only these: the directories .config, .local (holding .local/state
// and .local/share) and .github (inside some code projects), and the dotfiles .bashrc, .profile,
// .gitconfig and .vimrc (root) and .editorconfig and .prettierrc (code projects). With the
// "hidden" rule set switched on (off by default) these and everything below them are skipped:
// about 21% of the files, reported exactly as Stats.Hidden.
//
// # Symlinks
//
// With Options.Symlinks, about 0.1% of files (four on average in smaller trees) get a symlink
// next to them, in addition to Options.Files: relative links to recent files, links to
// directories of earlier areas (never forming a cycle), dangling links (about 10%, and always the
// first one; targets named "deleted-..."), and exactly one loop, a directory link "workspace" ->
// "../.." in the first directory at depth 2 of src/, which is a cycle for walkers that follow
// symlinks. Symlinks count in Stats.Symlinks, not in Files or Hidden.
package treegen
