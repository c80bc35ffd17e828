// Package index is the kernel's indexer: a pipeline of phases over one location.
//
//  1. discover — a parallel walk (getdents + fstatat, ignore rules applied while walking) that
//     streams one DirResult per directory, parents first;
//  2. process — one writer applies the results in batched transactions: change detection by path,
//     then by inode (moved vs hard link), aggregates (size, file and directory counts) updated
//     incrementally in the same transaction; deletions are applied after the walk, never outside
//     the location root, and never for directories that could not be read;
//  3. content — content identity (sampled BLAKE3, core/cas) for files without one, in id order,
//     batch by batch;
//  4. stages — every pipeline stage (core/pipeline) for contents whose ledger lacks it (deep mode).
//
// Each batch commits together with the job checkpoint (core/jobs), so a crash resumes at the
// first uncommitted batch: the walk is repeated (it only compares), committed writes and hashes
// are never redone.
package index
