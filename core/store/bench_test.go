package store

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"testing"
)

// benchEntries is the tree size of the store benchmarks: CAIRN_BENCH_ENTRIES (default 200,000;
// use 1000000 or 10000000 for the scale figures in RATIONALE.md).
func benchEntries() int {
	if v, err := strconv.Atoi(os.Getenv("CAIRN_BENCH_ENTRIES")); err == nil && v > 0 {
		return v
	}
	return 200_000
}

// benchTree builds a tree of about n entries, breadth first, with 3 subdirectories and 30 files
// per directory (about 9% directories, like a real home folder). It also fills a comparison table mp_entries holding the full
// materialized path of every entry (the representation we did not choose).
func benchTree(b *testing.B, n int) (*Store, *Location, map[string]int64) {
	b.Helper()
	ctx := context.Background()
	s := openTest(b)
	dev, _ := s.EnsureDevice(ctx, Device{UUID: "d", Name: "d", Slug: "d", OS: "linux"})
	loc, err := s.AddLocation(ctx, dev, "/bench", ModeShallow, LocationConfig{})
	if err != nil {
		b.Fatal(err)
	}
	if _, err := s.sql.Exec(`CREATE TABLE mp_entries (id INTEGER PRIMARY KEY, path TEXT NOT NULL UNIQUE)`); err != nil {
		b.Fatal(err)
	}
	dirs := map[string]int64{"": loc.RootEntryID}
	bt, _ := s.Begin(ctx)
	count := 0
	type qd struct {
		rel string
		id  int64
	}
	queue := []qd{{"", loc.RootEntryID}}
	mp, _ := bt.Tx().Prepare(`INSERT INTO mp_entries (id, path) VALUES (?, ?)`)
	for len(queue) > 0 && count < n {
		d := queue[0]
		queue = queue[1:]
		for i := 0; i < 30 && count < n; i++ {
			name := "f" + strconv.Itoa(i) + ".txt"
			id, err := bt.InsertEntry(&Entry{LocationID: loc.ID, ParentID: d.id, Name: name, Kind: KindFile, Size: 100}, "")
			if err != nil {
				b.Fatal(err)
			}
			mp.Exec(id, JoinRel(d.rel, name))
			count++
		}
		for i := 0; i < 3 && count < n; i++ {
			name := "d" + strconv.Itoa(i)
			rel := JoinRel(d.rel, name)
			id, err := bt.InsertEntry(&Entry{LocationID: loc.ID, ParentID: d.id, Name: name, Kind: KindDir}, rel)
			if err != nil {
				b.Fatal(err)
			}
			mp.Exec(id, rel)
			dirs[rel] = id
			queue = append(queue, qd{rel, id})
			count++
		}
		if count%50000 < 20 {
			bt.Commit()
			bt, _ = s.Begin(ctx)
			mp, _ = bt.Tx().Prepare(`INSERT INTO mp_entries (id, path) VALUES (?, ?)`)
		}
	}
	if err := bt.Commit(); err != nil {
		b.Fatal(err)
	}
	return s, loc, dirs
}

// subtreeSize counts entries below rel with the materialized paths.
func subtreeSize(s *Store, rel string) int {
	var n int
	s.sql.QueryRow(`SELECT count(*) FROM mp_entries WHERE path >= ? AND path < ?`, rel+"/", rel+"0").Scan(&n)
	return n
}

// BenchmarkMoveSubtree moves a directory holding ~1% of the tree back and forth, committed each
// time: with dir_paths (ours: rewrites the directories below) and with materialized paths on
// every entry (rewrites every entry below). Compare the two ns/op.
func BenchmarkMoveSubtree(b *testing.B) {
	n := benchEntries()
	s, loc, dirs := benchTree(b, n)
	ctx := context.Background()
	// pick the directory whose subtree is closest to 1% of the tree
	target, best := "", 1<<62
	for rel := range dirs {
		if rel == "" {
			continue
		}
		if d := subtreeSize(s, rel) - n/100; d >= 0 && d < best {
			target, best = rel, d
		}
	}
	below := subtreeSize(s, target)
	id := dirs[target]
	parent, _, _ := func() (int64, string, error) {
		bt, _ := s.Begin(ctx)
		defer bt.Rollback()
		return bt.ParentOf(id)
	}()
	b.Logf("tree %d entries; moving %s with %d entries below", n, target, below)
	b.Run(fmt.Sprintf("dir_paths/entries=%d/below=%d", n, below), func(b *testing.B) {
		from, to := target, target+"_moved"
		for i := 0; i < b.N; i++ {
			bt, _ := s.Begin(ctx)
			if err := bt.Move(loc.ID, id, KindDir, parent, to[lastSlash(to)+1:], from, to); err != nil {
				b.Fatal(err)
			}
			if err := bt.Commit(); err != nil {
				b.Fatal(err)
			}
			from, to = to, from
		}
	})
	b.Run(fmt.Sprintf("materialized/entries=%d/below=%d", n, below), func(b *testing.B) {
		from, to := target, target+"_moved"
		for i := 0; i < b.N; i++ {
			tx, _ := s.sql.Begin()
			if _, err := tx.Exec(`UPDATE mp_entries SET path = ? || CAST(substr(CAST(path AS BLOB), ?) AS TEXT) WHERE path = ? OR (path >= ? AND path < ?)`,
				to, len(from)+1, from, from+"/", from+"0"); err != nil {
				b.Fatal(err)
			}
			if err := tx.Commit(); err != nil {
				b.Fatal(err)
			}
			from, to = to, from
		}
	})
}

// BenchmarkSubtreeList streams every entry below a directory holding ~1% of the tree.
func BenchmarkSubtreeList(b *testing.B) {
	n := benchEntries()
	s, loc, dirs := benchTree(b, n)
	ctx := context.Background()
	target, best := "", 1<<62
	for rel := range dirs {
		if d := subtreeSize(s, rel) - n/100; rel != "" && d >= 0 && d < best {
			target, best = rel, d
		}
	}
	b.ResetTimer()
	var got int
	for i := 0; i < b.N; i++ {
		got = 0
		for _, err := range s.Subtree(ctx, loc, target) {
			if err != nil {
				b.Fatal(err)
			}
			got++
		}
	}
	b.ReportMetric(float64(got), "entries/op")
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(max(got, 1)), "ns/entry")
}
