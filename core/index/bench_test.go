package index_test

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"

	"github.com/cairnfs/cairn/core/index"
	"github.com/cairnfs/cairn/core/store"
	"github.com/cairnfs/cairn/internal/benchpeer"
	"github.com/cairnfs/cairn/internal/treegen"
)

// benchFiles is the tree size: CAIRN_BENCH_FILES (default 20,000; the figures in the closing
// notes use 100000 and 1000000). Trees are cached under $TMPDIR/cairn-bench-<n> between runs.
func benchFiles() int {
	if v, err := strconv.Atoi(os.Getenv("CAIRN_BENCH_FILES")); err == nil && v > 0 {
		return v
	}
	return 20_000
}

var treeOnce sync.Map

func benchTree(b *testing.B) string {
	n := benchFiles()
	dir := filepath.Join(os.TempDir(), "cairn-bench-v"+strconv.Itoa(treegen.Version)+"-"+strconv.Itoa(n))
	once, _ := treeOnce.LoadOrStore(dir, &sync.Once{})
	once.(*sync.Once).Do(func() {
		if _, err := os.Stat(filepath.Join(dir, ".done")); err == nil {
			return
		}
		os.RemoveAll(dir)
		if _, err := treegen.Generate(context.Background(), dir, treegen.Options{Files: n, Seed: 1}, nil); err != nil {
			b.Fatal(err)
		}
		os.WriteFile(filepath.Join(dir, ".done"), nil, 0o644)
	})
	return dir
}

// benchIndex indexes the tree into a fresh library per iteration and reports files/s, the time
// ratio to fd -HI and find measured in the same run, and the process's peak RSS.
func benchIndex(b *testing.B, mode string) {
	dir := benchTree(b)
	fd := benchpeer.Fd(context.Background(), dir)
	find := benchpeer.Find(context.Background(), dir)
	b.ResetTimer()
	var files int64
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		fx := newFixture(b, dir, mode)
		b.StartTimer()
		s := fx.index(b, index.Options{})
		files = s.Files
	}
	b.StopTimer()
	per := b.Elapsed().Seconds() / float64(b.N)
	b.ReportMetric(float64(files)/per, "files/s")
	if fd.Err == nil {
		b.ReportMetric(per/fd.Wall.Seconds(), "x-fd")
	}
	if find.Err == nil {
		b.ReportMetric(per/find.Wall.Seconds(), "x-find")
	}
	b.ReportMetric(float64(benchpeer.SelfPeakRSS())/(1<<20), "peak-MiB")
}

func BenchmarkIndexShallow(b *testing.B) { benchIndex(b, store.ModeShallow) }
func BenchmarkIndexContent(b *testing.B) { benchIndex(b, store.ModeContent) }

// BenchmarkReindexUnchanged re-indexes an indexed, unchanged tree.
func BenchmarkReindexUnchanged(b *testing.B) {
	dir := benchTree(b)
	fx := newFixture(b, dir, store.ModeContent)
	fx.index(b, index.Options{})
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if s := fx.index(b, index.Options{}); s.RunWritten != 0 || s.RunHashed != 0 {
			b.Fatalf("unchanged tree re-indexed with changes: %+v", s)
		}
	}
	b.ReportMetric(float64(benchFiles())/(b.Elapsed().Seconds()/float64(b.N)), "files/s")
}
