package cas

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cairnfs/cairn/internal/testtool"
)

// benchFile writes size random bytes to a new file and returns its path; the file stays in the
// page cache, so benchmarks measure hashing and syscalls, not the disk.
func benchFile(b *testing.B, size int64) string {
	b.Helper()
	p := filepath.Join(b.TempDir(), "bench")
	f, err := os.Create(p)
	if err != nil {
		b.Fatal(err)
	}
	rng := rand.NewChaCha8([32]byte{42})
	buf := make([]byte, 1<<20)
	for left := size; left > 0; left -= int64(len(buf)) {
		_, _ = rng.Read(buf)
		if _, err := f.Write(buf[:min(left, int64(len(buf)))]); err != nil {
			b.Fatal(err)
		}
	}
	if err := f.Close(); err != nil {
		b.Fatal(err)
	}
	return p
}

// BenchmarkSampler measures cas_ids per second: "pread" hashes an open file (Sampler.Sum),
// "file" adds open, fstat and close (Sampler.SumFile).
func BenchmarkSampler(b *testing.B) {
	for _, size := range []int64{4 << 10, 100 << 10, 1 << 20, 64 << 20} {
		path := benchFile(b, size)
		b.Run(fmt.Sprintf("pread/%dKiB", size>>10), func(b *testing.B) {
			f, err := os.Open(path)
			if err != nil {
				b.Fatal(err)
			}
			defer f.Close()
			s := NewSampler()
			b.ReportAllocs()
			for b.Loop() {
				if _, err := s.Sum(f, size); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "files/s")
		})
		b.Run(fmt.Sprintf("file/%dKiB", size>>10), func(b *testing.B) {
			s := NewSampler()
			b.ReportAllocs()
			for b.Loop() {
				if _, _, err := s.SumFile(path); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "files/s")
		})
	}
}

// BenchmarkFullHash hashes a 256 MiB file with FullHashFile and, when b3sum is on PATH, with
// `b3sum --num-threads 1` between iterations (outside the timer). It reports the best iteration
// of each as cairn-MB/s and b3sum-MB/s, and their ratio; b3sum's process start-up, measured on a
// one-byte file, is subtracted from its times (ratio-wall compares with whole b3sum runs). Keep it short on a shared machine:
//
//	go test ./core/cas -run '^$' -bench 'FullHash$' -benchtime 8x
func BenchmarkFullHash(b *testing.B) {
	const size = 256 << 20
	path := benchFile(b, size)
	ctx := context.Background()
	ours, _, err := FullHashFile(ctx, path) // warm the page cache
	if err != nil {
		b.Fatal(err)
	}
	bin, _ := testtool.Optional(b, "b3sum", "b3sum")
	var startup time.Duration
	if bin != "" {
		tiny := filepath.Join(b.TempDir(), "tiny")
		if err := os.WriteFile(tiny, []byte{1}, 0o644); err != nil {
			b.Fatal(err)
		}
		startup = bestOf(5, func() { runB3sum(b, bin, tiny) })
		if theirs := runB3sum(b, bin, path); theirs != ours {
			b.Fatalf("FullHashFile = %s, b3sum = %s", ours, theirs)
		}
	}

	var cairn, b3, b3wall []time.Duration
	b.SetBytes(size)
	for b.Loop() {
		start := time.Now()
		if _, _, err := FullHashFile(ctx, path); err != nil {
			b.Fatal(err)
		}
		cairn = append(cairn, time.Since(start))
		if bin != "" {
			b.StopTimer()
			wall := bestOf(1, func() { runB3sum(b, bin, path) })
			b3wall = append(b3wall, wall)
			b3 = append(b3, wall-startup)
			b.StartTimer()
		}
	}
	mbps := func(d time.Duration) float64 { return size / d.Seconds() / 1e6 }
	b.ReportMetric(mbps(slices.Min(cairn)), "cairn-MB/s")
	if len(b3) > 0 {
		b.ReportMetric(mbps(slices.Min(b3)), "b3sum-MB/s")
		b.ReportMetric(mbps(slices.Min(cairn))/mbps(slices.Min(b3)), "ratio")
		b.ReportMetric(float64(startup.Microseconds()), "b3sum-startup-µs")
		b.ReportMetric(mbps(slices.Min(cairn))/mbps(slices.Min(b3wall)), "ratio-wall")
	}
}

// BenchmarkFullHashReadAhead compares read-ahead settings (buffer size × count; count 1 reads and
// hashes in turn on one goroutine) on a 128 MiB file.
//
//	go test ./core/cas -run '^$' -bench FullHashReadAhead -benchtime 8x
func BenchmarkFullHashReadAhead(b *testing.B) {
	const size = 128 << 20
	path := benchFile(b, size)
	for _, ra := range []readAhead{
		{64 << 10, 1}, {1 << 20, 1}, {4 << 20, 1},
		{256 << 10, 2}, {256 << 10, 4}, {1 << 20, 2}, {1 << 20, 3}, {2 << 20, 3}, {4 << 20, 3}, {8 << 20, 2},
	} {
		b.Run(fmt.Sprintf("%dKiBx%d", ra.size>>10, ra.count), func(b *testing.B) {
			b.SetBytes(size)
			var best time.Duration = 1 << 62
			for b.Loop() {
				start := time.Now()
				f, err := os.Open(path)
				if err != nil {
					b.Fatal(err)
				}
				_, _, err = ra.hash(context.Background(), f)
				f.Close()
				if err != nil {
					b.Fatal(err)
				}
				best = min(best, time.Since(start))
			}
			b.ReportMetric(size/best.Seconds()/1e6, "best-MB/s")
		})
	}
}

func runB3sum(b *testing.B, bin, path string) string {
	out, err := exec.Command(bin, "--num-threads", "1", "--no-names", path).Output()
	if err != nil {
		b.Fatalf("b3sum: %v", err)
	}
	return strings.TrimSpace(string(out))
}

// bestOf returns the shortest of n runs of f.
func bestOf(n int, f func()) time.Duration {
	best := time.Duration(1 << 62)
	for range n {
		start := time.Now()
		f()
		best = min(best, time.Since(start))
	}
	return best
}
