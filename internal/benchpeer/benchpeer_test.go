package benchpeer

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cairnfs/cairn/internal/testtool"
	"github.com/cairnfs/cairn/internal/treegen"
)

// tree generates a small tree with symlinks (a loop and dangling ones included) and returns its
// directory and the number of entries below it, as filepath.WalkDir counts them.
func tree(t *testing.T) (string, int) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "tree")
	st, err := treegen.Generate(context.Background(), dir, treegen.Options{Files: 2000, Seed: 4, Symlinks: true}, nil)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	if err := filepath.WalkDir(dir, func(string, fs.DirEntry, error) error { n++; return nil }); err != nil {
		t.Fatal(err)
	}
	n-- // WalkDir visits the root too
	if want := st.Files + st.Dirs + st.Symlinks; n != want {
		t.Fatalf("WalkDir counts %d entries, treegen says %d", n, want)
	}
	return dir, n
}

func TestFind(t *testing.T) {
	dir, want := tree(t)
	// make this process big: a vforked child's rusage then inherits our peak, which Run corrects
	// (find prints 2,000-odd paths, more than a 64 KiB pipe holds: it is alive for the first sample)
	ballast := make([]byte, 256<<20)
	for i := range ballast {
		ballast[i] = 1
	}
	r := Find(context.Background(), dir)
	if r.Err != nil || r.Entries != want || r.Tool != "find" || r.Runs != 1 || len(r.Walls) != 1 {
		t.Fatalf("find: %+v, want %d entries", r, want)
	}
	self := SelfPeakRSS()
	if r.PeakRSS <= 0 || r.PeakRSS >= 128<<20 || self < 256<<20 {
		t.Fatalf("find's peak RSS %d bytes, ours %d", r.PeakRSS, self)
	}
	t.Logf("find: %d entries in %v, peak RSS %.1f MiB (this process: %.0f MiB)", r.Entries, r.Wall, float64(r.PeakRSS)/(1<<20), float64(self)/(1<<20))
	ballast[len(ballast)-1] = 0

	rr := Repeat(3, Median, func() Result { return Find(context.Background(), dir) })
	if rr.Err != nil || rr.Runs != 3 || len(rr.Walls) != 3 || rr.Entries != want {
		t.Fatalf("Repeat: %+v", rr)
	}
	sorted := slices.Sorted(slices.Values(rr.Walls))
	if rr.Wall != sorted[1] {
		t.Fatalf("median %v of %v", rr.Wall, rr.Walls)
	}
	if b := Repeat(3, Best, func() Result { return Find(context.Background(), dir) }); b.Wall > b.Walls[0] || b.Wall > b.Walls[1] || b.Wall > b.Walls[2] {
		t.Fatalf("best %v of %v", b.Wall, b.Walls)
	}
}

func TestFd(t *testing.T) {
	dir, want := tree(t)
	r := Fd(context.Background(), dir)
	if errors.Is(r.Err, ErrNotInstalled) {
		testtool.Need(t, "fdfind", "fd-find") // skips, or fails under CI=true
	}
	if r.Err != nil || r.Entries != want || r.PeakRSS <= 0 {
		t.Fatalf("%s: %+v, want %d entries", r.Tool, r, want)
	}
	find := Find(context.Background(), dir)
	t.Logf("%s %v: %d entries in %v (find %v, ratio %.2f), peak RSS %.1f MiB", r.Tool, r.Args, r.Entries, r.Wall, find.Wall, Ratio(r.Wall, find.Wall), float64(r.PeakRSS)/(1<<20))
}

func TestRun(t *testing.T) {
	ctx := context.Background()
	// 2,000,000 lines stream through a fixed buffer; a last line without newline counts
	if r := Run(ctx, "seq", "1", "2000000"); r.Err != nil || r.Entries != 2_000_000 {
		t.Fatalf("seq: %+v", r)
	}
	if r := Run(ctx, "printf", `a\nb\nc`); r.Err != nil || r.Entries != 3 {
		t.Fatalf("printf: %+v", r)
	}
	if r := Run(ctx, "true"); r.Err != nil || r.Entries != 0 {
		t.Fatalf("true: %+v", r)
	}
	if r := Run(ctx, "cairn-no-such-tool"); !errors.Is(r.Err, ErrNotInstalled) {
		t.Fatalf("missing tool: %+v", r)
	}
	r := Run(ctx, "sh", "-c", "echo one; echo oops >&2; exit 3")
	if r.Err == nil || !strings.Contains(r.Err.Error(), "oops") || r.Entries != 1 {
		t.Fatalf("failing tool: %+v", r)
	}
	if rr := Repeat(5, Best, func() Result { return Run(ctx, "false") }); rr.Err == nil || rr.Runs != 1 {
		t.Fatalf("Repeat stops at an error: %+v", rr)
	}
	n := 0
	if rr := Repeat(3, Best, func() Result { n++; return Run(ctx, "seq", "1", string(rune('0'+n))) }); rr.Err == nil || rr.Runs != 2 {
		t.Fatalf("Repeat with changing entries: %+v", rr)
	}
	tctx, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
	defer cancel()
	if r := Run(tctx, "sleep", "10"); !errors.Is(r.Err, context.DeadlineExceeded) || r.Wall > 5*time.Second {
		t.Fatalf("cancelled: %+v", r)
	}
	if Ratio(3*time.Second, time.Second) != 3 || Ratio(time.Second, 0) != 0 {
		t.Fatal("Ratio")
	}
	if SelfPeakRSS() <= 0 {
		t.Fatal("SelfPeakRSS")
	}
}

func TestDropCaches(t *testing.T) {
	if os.Geteuid() != 0 {
		if err := DropCaches(); !errors.Is(err, ErrNeedsRoot) {
			t.Fatalf("as uid %d: %v", os.Geteuid(), err)
		}
		return
	}
	// As root this really drops the page cache, which slows everything else on the machine for a
	// while: only where asked, or in CI (a machine of its own).
	if os.Getenv("CAIRN_TEST_DROP_CACHES") != "1" && !testtool.InCI() {
		t.Skip("running as root: set CAIRN_TEST_DROP_CACHES=1 (or CI=true) to really drop the page cache")
	}
	if err := DropCaches(); err != nil {
		t.Log(err) // e.g. a read-only /proc/sys: the error must say why
		if !strings.Contains(err.Error(), "drop_caches") {
			t.Fatal("unclear error")
		}
	}
}
