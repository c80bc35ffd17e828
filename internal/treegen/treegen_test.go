package treegen

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/cairnfs/cairn/core/ignore"
)

// entry is one line of a tree's manifest.
type entry struct {
	path  string
	kind  byte // d, f, l
	size  int64
	mtime int64 // ns
	sum   [32]byte
	link  string
}

func (e entry) String() string {
	return fmt.Sprintf("%c %s %d %d %x %s", e.kind, e.path, e.size, e.mtime, e.sum, e.link)
}

// manifest lists every entry below dir (not dir itself) in walk order, with SHA-256 of contents.
func manifest(t *testing.T, dir string) []entry {
	t.Helper()
	var out []entry
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || p == dir {
			return err
		}
		info, err := os.Lstat(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		e := entry{path: rel, mtime: info.ModTime().UnixNano(), size: info.Size()}
		switch {
		case info.IsDir():
			e.kind, e.size = 'd', 0
		case info.Mode()&fs.ModeSymlink != 0:
			e.kind = 'l'
			if e.link, err = os.Readlink(p); err != nil {
				return err
			}
		case info.Mode().IsRegular():
			e.kind = 'f'
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			e.sum = sha256.Sum256(b)
		default:
			return fmt.Errorf("%s: unexpected mode %v", p, info.Mode())
		}
		out = append(out, e)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// onDisk computes Stats from a manifest.
func onDisk(m []entry) Stats {
	var st Stats
	seen := map[[32]byte]bool{}
	for _, e := range m {
		switch e.kind {
		case 'd':
			st.Dirs++
		case 'l':
			st.Symlinks++
		case 'f':
			st.Files++
			st.Bytes += e.size
			if e.size == 0 {
				st.Empty++
			} else if seen[e.sum] {
				st.Duplicates++
			}
			seen[e.sum] = true
			if strings.HasPrefix(e.path, ".") || strings.Contains(e.path, "/.") {
				st.Hidden++
			}
		}
	}
	return st
}

func TestDeterministicAndCounts(t *testing.T) {
	o := Options{Files: 3000, Seed: 7, Symlinks: true}
	a, b := filepath.Join(t.TempDir(), "a"), filepath.Join(t.TempDir(), "b")
	oa, ob := o, o
	oa.Workers, ob.Workers = 1, 7 // the number of writers does not change the tree
	sa, err := Generate(context.Background(), a, oa, nil)
	if err != nil {
		t.Fatal(err)
	}
	sb, err := Generate(context.Background(), b, ob, nil)
	if err != nil {
		t.Fatal(err)
	}
	ma, mb := manifest(t, a), manifest(t, b)
	if len(ma) != len(mb) {
		t.Fatalf("%d entries vs %d", len(ma), len(mb))
	}
	for i := range ma {
		if ma[i] != mb[i] {
			t.Fatalf("trees differ at entry %d:\n%v\n%v", i, ma[i], mb[i])
		}
	}
	ia, _ := os.Stat(a)
	ib, _ := os.Stat(b)
	if !ia.ModTime().Equal(ib.ModTime()) {
		t.Fatalf("root mtimes differ: %v %v", ia.ModTime(), ib.ModTime())
	}
	if sa != sb {
		t.Fatalf("stats differ: %+v %+v", sa, sb)
	}
	if p, err := Plan(o); err != nil || p != sa {
		t.Fatalf("Plan %+v (%v) != Generate %+v", p, err, sa)
	}
	if d := onDisk(ma); d != sa {
		t.Fatalf("on disk %+v, Stats %+v", d, sa)
	}
	if sa.Files != o.Files || sa.Duplicates < 50 || sa.Empty < 3 || sa.Symlinks < 4 || sa.Dirs < 100 || sa.Hidden == 0 {
		t.Fatalf("implausible stats %+v", sa)
	}
	t.Logf("%+v", sa)

	// another seed gives another tree
	c := filepath.Join(t.TempDir(), "c")
	o.Seed = 8
	if _, err := Generate(context.Background(), c, o, nil); err != nil {
		t.Fatal(err)
	}
	if mc := manifest(t, c); len(mc) == len(ma) && slices.Equal(mc, ma) {
		t.Fatal("seeds 7 and 8 gave the same tree")
	}
}

func TestSymlinks(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "t")
	st, err := Generate(context.Background(), dir, Options{Files: 5000, Seed: 3, Symlinks: true}, nil)
	if err != nil {
		t.Fatal(err)
	}
	var links, dangling, loops, toDir, toFile int
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.Type()&fs.ModeSymlink == 0 {
			return err
		}
		links++
		target, _ := os.Readlink(p)
		if filepath.IsAbs(target) {
			t.Errorf("%s -> %s is absolute", p, target)
		}
		resolved := filepath.Join(filepath.Dir(p), target)
		info, err := os.Stat(p)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			dangling++
			if !strings.Contains(target, "deleted-") {
				t.Errorf("unexpected dangling link %s -> %s", p, target)
			}
		case err != nil:
			t.Errorf("%s: %v", p, err)
		case info.IsDir() && strings.HasPrefix(p, resolved+"/"):
			loops++
		case info.IsDir():
			toDir++
		default:
			toFile++
		}
		return nil
	})
	if links != st.Symlinks || loops != 1 || dangling == 0 || toDir == 0 || toFile == 0 {
		t.Fatalf("%d links (Stats %d): %d loops, %d dangling, %d to dirs, %d to files", links, st.Symlinks, loops, dangling, toDir, toFile)
	}
	// without the option: no symlinks at all
	st, err = Plan(Options{Files: 5000, Seed: 3})
	if err != nil || st.Symlinks != 0 {
		t.Fatalf("%+v %v", st, err)
	}
}

// TestIgnoreRules: Cairn's default ignore rules skip nothing; the hidden rule set skips exactly
// Stats.Hidden files.
func TestIgnoreRules(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "t")
	st, err := Generate(context.Background(), dir, Options{Files: 6000, Seed: 11, Symlinks: true}, nil)
	if err != nil {
		t.Fatal(err)
	}
	count := func(opts ignore.Options) (files int, ignored []string) {
		top, err := ignore.New(opts)
		if err != nil {
			t.Fatal(err)
		}
		var walk func(m *ignore.Matcher, name, p string)
		walk = func(parent *ignore.Matcher, name, p string) {
			ents, err := os.ReadDir(p)
			if err != nil {
				t.Fatal(err)
			}
			var listing []string
			for _, e := range ents {
				listing = append(listing, e.Name())
			}
			m, warns, err := parent.Enter(name, listing, func(n string) ([]byte, error) { return os.ReadFile(filepath.Join(p, n)) })
			if err != nil || len(warns) > 0 {
				t.Fatal(err, warns)
			}
			for _, e := range ents {
				if skip, why := m.Match(e.Name(), e.IsDir()); skip {
					ignored = append(ignored, filepath.Join(p, e.Name())+" ("+why+")")
					continue
				}
				switch {
				case e.IsDir():
					walk(m, e.Name(), filepath.Join(p, e.Name()))
				case e.Type().IsRegular():
					files++
				}
			}
		}
		walk(top, "", dir)
		return files, ignored
	}
	if files, ignored := count(ignore.DefaultOptions()); files != st.Files || len(ignored) > 0 {
		t.Fatalf("default rules: %d of %d files seen; ignored %d entries, e.g. %v", files, st.Files, len(ignored), ignored[:min(5, len(ignored))])
	}
	o := ignore.DefaultOptions()
	o.IgnoreHidden = true
	files, ignored := count(o)
	if files != st.Files-st.Hidden {
		t.Fatalf("hidden rules: %d files seen, want %d-%d", files, st.Files, st.Hidden)
	}
	t.Logf("the hidden rule set skips %d entries holding %d of %d files: %v", len(ignored), st.Hidden, st.Files, ignored[:min(8, len(ignored))])
}

func TestContent(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "t")
	if _, err := Generate(context.Background(), dir, Options{Files: 3000, Seed: 5}, nil); err != nil {
		t.Fatal(err)
	}
	checked := map[string]int{}
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil || len(b) == 0 {
			return err
		}
		ext := filepath.Ext(p)
		if m, ok := magic[ext]; ok && !strings.HasPrefix(filepath.Base(p), ".") {
			if !bytes.HasPrefix(b, []byte(m)) {
				t.Errorf("%s does not start with its magic", p)
			}
			checked[ext]++
		}
		if ext == ".txt" || ext == ".md" || ext == ".go" {
			if !utf8.Valid(b) || bytes.ContainsFunc(b, func(r rune) bool { return r != '\n' && (r < ' ' || r > '~') }) {
				t.Errorf("%s is not plain text: %q", p, b[:min(len(b), 80)])
			}
			checked[ext]++
		}
		return nil
	})
	for _, ext := range []string{".pdf", ".jpg", ".mp3", ".txt", ".go"} {
		if checked[ext] == 0 {
			t.Errorf("no %s file checked", ext)
		}
	}
}

// TestShape checks the planned distributions at 200,000 files.
func TestShape(t *testing.T) {
	o, _ := Options{Files: 200_000, Seed: 1}.normalize()
	p := &planner{o: o}
	var sizes []int64
	depth := map[int]int{}
	p.emit = func(b *batch) error {
		d := 1
		if b.dir != "" {
			d = strings.Count(b.dir, "/") + 2
		}
		for _, f := range b.files {
			sizes = append(sizes, f.size)
			depth[d]++
		}
		return nil
	}
	if err := p.run(context.Background()); err != nil {
		t.Fatal(err)
	}
	slices.Sort(sizes)
	median, mean := sizes[len(sizes)/2], p.st.Bytes/int64(len(sizes))
	peak, maxDepth := 0, 0
	for d, n := range depth {
		if n > depth[peak] {
			peak = d
		}
		maxDepth = max(maxDepth, d)
	}
	t.Logf("%+v; size median %d mean %d max %d; depth peak %d max %d; %d files per dir", p.st, median, mean, sizes[len(sizes)-1], peak, maxDepth, p.st.Files/p.st.Dirs)
	if median < 1000 || median > 2000 || mean > 5000 || sizes[len(sizes)-1] > 512<<10 || peak < 4 || peak > 6 || maxDepth < 12 {
		t.Fatal("shape out of range")
	}
	dup := float64(p.st.Duplicates) / float64(p.st.Files)
	empty := float64(p.st.Empty) / float64(p.st.Files)
	if dup < 0.045 || dup > 0.055 || empty < 0.004 || empty > 0.006 {
		t.Fatalf("duplicates %.4f, empty %.4f", dup, empty)
	}
	// SizeScale scales
	o.SizeScale = 10
	big, err := Plan(Options{Files: 200_000, Seed: 1, SizeScale: 10})
	if err != nil || float64(big.Bytes) < 9*float64(p.st.Bytes) {
		t.Fatalf("SizeScale 10: %d bytes vs %d", big.Bytes, p.st.Bytes)
	}
}

func TestCancelAndErrors(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Generate(ctx, filepath.Join(t.TempDir(), "c"), Options{Files: 1000}, nil); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled before: %v", err)
	}
	// cancel midway, from the progress callback
	ctx, cancel = context.WithCancel(context.Background())
	defer cancel()
	var last int
	start := time.Now()
	_, err := Generate(ctx, filepath.Join(t.TempDir(), "m"), Options{Files: 50_000}, func(done, total int) {
		if done < last || total != 50_000 {
			t.Errorf("progress %d/%d after %d", done, total, last)
		}
		last = done
		if done >= 2000 {
			cancel()
		}
	})
	if !errors.Is(err, context.Canceled) || last >= 50_000 {
		t.Fatalf("cancelled midway: %v after %d files in %v", err, last, time.Since(start))
	}
	t.Logf("stopped after %d files, %v", last, time.Since(start))

	// progress ends at total
	last = 0
	dir := filepath.Join(t.TempDir(), "p")
	if _, err := Generate(context.Background(), dir, Options{Files: 1500}, func(done, total int) { last = done }); err != nil || last != 1500 {
		t.Fatalf("progress ended at %d (%v)", last, err)
	}
	if _, err := Generate(context.Background(), dir, Options{Files: 10}, nil); err == nil {
		t.Fatal("generating into a non-empty folder succeeded")
	}
	for _, o := range []Options{{Files: -1}, {Files: 1, SizeScale: -1}, {Files: 1, DupFraction: 2}} {
		if _, err := Plan(o); err == nil {
			t.Errorf("Plan(%+v) succeeded", o)
		}
	}
	// tiny trees
	for _, n := range []int{0, 1, 3, 17} {
		d := filepath.Join(t.TempDir(), strconv.Itoa(n))
		st, err := Generate(context.Background(), d, Options{Files: n, Symlinks: true}, nil)
		if err != nil || st.Files != n {
			t.Fatalf("%d files: %+v %v", n, st, err)
		}
		if got := onDisk(manifest(t, d)); got != st {
			t.Fatalf("%d files: on disk %+v, Stats %+v", n, got, st)
		}
	}
}

// BenchmarkGenerate writes CAIRN_TREEGEN_FILES files (default 20,000) per iteration and reports
// files/s and MB/s.
func BenchmarkGenerate(b *testing.B) {
	n := 20_000
	if v, err := strconv.Atoi(os.Getenv("CAIRN_TREEGEN_FILES")); err == nil && v > 0 {
		n = v
	}
	var st Stats
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		dir := filepath.Join(b.TempDir(), "t")
		b.StartTimer()
		var err error
		if st, err = Generate(context.Background(), dir, Options{Files: n, Seed: 1}, nil); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		os.RemoveAll(dir)
		b.StartTimer()
	}
	per := b.Elapsed().Seconds() / float64(b.N)
	b.ReportMetric(float64(st.Files)/per, "files/s")
	b.ReportMetric(float64(st.Bytes)/per/1e6, "MB/s")
}
