package index_test

import (
	"context"
	"fmt"
	"io/fs"
	"math/rand"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/cairnfs/cairn/core/index"
	"github.com/cairnfs/cairn/core/jobs"
	"github.com/cairnfs/cairn/core/library"
	"github.com/cairnfs/cairn/core/store"
)

// fixture is a library with one location over dir.
type fixture struct {
	lib *library.Library
	loc *store.Location
	ix  *index.Indexer
	dir string
}

func newFixture(t testing.TB, dir, mode string) *fixture {
	t.Helper()
	ctx := context.Background()
	h := library.Home{Dir: t.TempDir()}
	if err := h.Create(ctx, "t"); err != nil {
		t.Fatal(err)
	}
	lib, err := h.Open(ctx, "t", library.OpenOptions{Write: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { lib.Close() })
	loc, err := lib.Store.AddLocation(ctx, lib.DeviceID, dir, mode, store.LocationConfig{NoIgnore: true})
	if err != nil {
		t.Fatal(err)
	}
	return &fixture{lib: lib, loc: loc, ix: &index.Indexer{Store: lib.Store, Jobs: jobs.NewManager(lib.Store.SQL())}, dir: dir}
}

func (f *fixture) index(t testing.TB, opts index.Options) index.Summary {
	t.Helper()
	ctx := context.Background()
	loc, err := f.lib.Store.LocationByID(ctx, f.loc.ID)
	if err != nil {
		t.Fatal(err)
	}
	j, _, err := f.ix.Job(ctx, loc)
	if err != nil {
		t.Fatal(err)
	}
	s, err := f.ix.Run(ctx, loc, j, opts)
	if err != nil {
		t.Fatalf("index: %v", err)
	}
	return s
}

// indexed lists "kind size path" of every indexed entry, sorted.
func (f *fixture) indexed(t testing.TB) []string {
	t.Helper()
	var out []string
	for l, err := range f.lib.Store.Subtree(context.Background(), f.loc, "") {
		if err != nil {
			t.Fatal(err)
		}
		size := l.Size
		if l.Kind == store.KindDir {
			size = 0
		}
		out = append(out, fmt.Sprintf("%s %d %s", l.Kind, size, l.Rel))
	}
	sort.Strings(out)
	return out
}

// onDisk lists the same for the real tree.
func onDisk(t testing.TB, dir string) []string {
	t.Helper()
	var out []string
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || p == dir {
			return nil
		}
		rel, _ := filepath.Rel(dir, p)
		info, err := os.Lstat(p)
		if err != nil {
			return nil
		}
		switch {
		case info.IsDir():
			out = append(out, "dir 0 "+rel)
		case info.Mode()&os.ModeSymlink != 0:
			out = append(out, fmt.Sprintf("symlink %d %s", info.Size(), rel))
		default:
			out = append(out, fmt.Sprintf("file %d %s", info.Size(), rel))
		}
		return nil
	})
	sort.Strings(out)
	return out
}

func diff(t *testing.T, got, want []string) {
	t.Helper()
	g, w := map[string]bool{}, map[string]bool{}
	for _, s := range got {
		g[s] = true
	}
	for _, s := range want {
		w[s] = true
	}
	n := 0
	for s := range w {
		if !g[s] && n < 10 {
			t.Errorf("on disk, not indexed: %s", s)
			n++
		}
	}
	for s := range g {
		if !w[s] && n < 20 {
			t.Errorf("indexed, not on disk: %s", s)
			n++
		}
	}
}

// TestHostileChurnDuringIndex indexes while another goroutine creates, deletes, renames and rewrites
// files. The run must not fail or crash; a final index over the settled tree matches the disk
// exactly, with consistent directory aggregates.
func TestHostileChurnDuringIndex(t *testing.T) {
	dir := t.TempDir()
	rng := rand.New(rand.NewSource(1))
	var paths []string
	for d := 0; d < 40; d++ {
		for f := 0; f < 50; f++ {
			p := filepath.Join(dir, "d"+strconv.Itoa(d), "s"+strconv.Itoa(f%5), "f"+strconv.Itoa(f))
			os.MkdirAll(filepath.Dir(p), 0o755)
			os.WriteFile(p, make([]byte, rng.Intn(4096)), 0o644)
			paths = append(paths, p)
		}
	}
	fx := newFixture(t, dir, store.ModeContent)
	for round := 0; round < 3; round++ {
		stop := make(chan struct{})
		var wg sync.WaitGroup
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := rand.New(rand.NewSource(int64(round)))
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				p := paths[r.Intn(len(paths))]
				switch r.Intn(5) {
				case 0:
					os.Remove(p)
				case 1:
					os.WriteFile(p, make([]byte, r.Intn(8192)), 0o644)
				case 2:
					os.Rename(p, p+".moved")
					os.Rename(p+".moved", p)
				case 3:
					os.RemoveAll(filepath.Dir(p))
					os.MkdirAll(filepath.Dir(p), 0o755)
				case 4:
					os.Rename(filepath.Dir(p), filepath.Dir(p)+"x")
					os.Rename(filepath.Dir(p)+"x", filepath.Dir(p))
				}
				if i%50 == 0 {
					time.Sleep(time.Millisecond)
				}
			}
		}()
		fx.index(t, index.Options{BatchSize: 50})
		close(stop)
		wg.Wait()
	}
	fx.index(t, index.Options{})
	diff(t, fx.indexed(t), onDisk(t, dir))
	checkAggregates(t, fx)
}

// checkAggregates recomputes every directory's aggregates from its children.
func checkAggregates(t *testing.T, fx *fixture) {
	t.Helper()
	rows, err := fx.lib.Store.SQL().Query(`SELECT d.id, d.agg_size, d.file_count, d.dir_count, d.child_count,
		(SELECT count(*) FROM entries c WHERE c.parent_id = d.id) FROM entries d WHERE d.kind = 1 AND d.location_id = ?`, fx.loc.ID)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	type agg struct{ size, files, dirs, children, actualChildren int64 }
	all := map[int64]agg{}
	for rows.Next() {
		var id int64
		var a agg
		rows.Scan(&id, &a.size, &a.files, &a.dirs, &a.children, &a.actualChildren)
		all[id] = a
	}
	for id, a := range all {
		if a.children != a.actualChildren {
			t.Errorf("dir %d: child_count %d, has %d children", id, a.children, a.actualChildren)
		}
	}
	// totals at the root equal the sums over the location
	c, _ := fx.lib.Store.LocationCounts(context.Background(), fx.loc.ID)
	root := all[fx.loc.RootEntryID]
	if root.size != c.Bytes || root.files != c.Files || root.dirs != c.Dirs {
		t.Errorf("root aggregates %d bytes %d files %d dirs; location has %d bytes %d files %d dirs",
			root.size, root.files, root.dirs, c.Bytes, c.Files, c.Dirs)
	}
}

// TestUnmountedRootKeepsIndex: a location root that is missing, or empty while its index is
// not, changes nothing.
func TestUnmountedRootKeepsIndex(t *testing.T) {
	dir := t.TempDir()
	for i := 0; i < 10; i++ {
		os.WriteFile(filepath.Join(dir, "f"+strconv.Itoa(i)), []byte("x"), 0o644)
	}
	fx := newFixture(t, dir, store.ModeShallow)
	fx.index(t, index.Options{})
	before := fx.indexed(t)
	for i := 0; i < 10; i++ {
		os.Remove(filepath.Join(dir, "f"+strconv.Itoa(i)))
	}
	ctx := context.Background()
	j, _, _ := fx.ix.Job(ctx, fx.loc)
	if _, err := fx.ix.Run(ctx, fx.loc, j, index.Options{}); err == nil {
		t.Fatal("indexing an empty root that had entries succeeded; want a refusal")
	}
	if got := fx.indexed(t); len(got) != len(before) {
		t.Fatalf("index changed: %d → %d entries", len(before), len(got))
	}
	// Explicitly allowed, the deletion goes through.
	j, _, _ = fx.ix.Job(ctx, fx.loc)
	s, err := fx.ix.Run(ctx, fx.loc, j, index.Options{AllowEmptyRoot: true})
	if err != nil || s.Deleted != 10 {
		t.Fatalf("with AllowEmptyRoot: %+v, %v", s, err)
	}
}

// TestHardLinkIsNotAMove: a hard link to an indexed file is a new entry; the original stays.
func TestHardLinkIsNotAMove(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "orig"), []byte("data"), 0o644)
	fx := newFixture(t, dir, store.ModeContent)
	fx.index(t, index.Options{})
	if err := os.Link(filepath.Join(dir, "orig"), filepath.Join(dir, "link")); err != nil {
		t.Skip("hard links not supported here:", err)
	}
	s := fx.index(t, index.Options{})
	if s.New != 1 || s.Moved != 0 {
		t.Fatalf("hard link: new %d moved %d; want 1, 0", s.New, s.Moved)
	}
	diff(t, fx.indexed(t), onDisk(t, dir))
}
