// Package cas computes content identities. A cas_id (AlgoSampled, "sampled-v1") is the first 16
// hex characters of BLAKE3 over the file size as a little-endian u64 followed by the whole file
// when it is at most 100 KiB, or else by its first 8 KiB, four 10 KiB samples spread evenly
// between, and its last 8 KiB: at most six preads and 56 KiB per file whatever its size, so
// identifying a file costs syscalls, not hashing (Sampler.Sum: 5–35 µs from the page cache,
// BenchmarkSampler). A file shorter than the size it was stat'ed with fails with an error
// wrapping io.ErrUnexpectedEOF rather than getting an id of partial content; an empty file has no
// id (ErrEmpty). The content UUID is UUIDv5 of the cas_id in the DNS namespace, so every device
// derives the same id without coordination. The integrity hash (AlgoFull, "blake3-full") is
// BLAKE3 over every byte (FullHash, FullHashFile): a second goroutine reads 1 MiB blocks ahead
// while the caller hashes, which brings it to about 0.9× `b3sum --num-threads 1` (AVX-512) with
// zeebo/blake3 (AVX2); BenchmarkFullHash measures both in the same run:
//
//	go test ./core/cas -run '^$' -bench 'FullHash$' -benchtime 8x
package cas
