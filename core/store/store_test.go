package store

import (
	"context"
	"path/filepath"
	"testing"
)

func openTest(t testing.TB) *Store {
	t.Helper()
	s, err := Open(context.Background(), filepath.Join(t.TempDir(), "library.db"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestExtension(t *testing.T) {
	for _, tc := range []struct{ name, want string }{
		{"photo.JPG", "jpg"}, {"archive.tar.gz", "gz"}, {".bashrc", ""}, {"Makefile", ""}, {"trailing.", ""}, {"a.b.C", "c"},
	} {
		if got := Extension(tc.name); got != tc.want {
			t.Errorf("Extension(%q) = %q, want %q", tc.name, got, tc.want)
		}
	}
}

func TestLocationRel(t *testing.T) {
	l := Location{Path: "/data/photos"}
	for _, tc := range []struct {
		abs, rel string
		ok       bool
	}{
		{"/data/photos", "", true}, {"/data/photos/a/b.jpg", "a/b.jpg", true}, {"/data/photos2/x", "", false},
		{"/data", "", false}, {"/data/photos/../x", "", false},
	} {
		rel, ok := l.Rel(tc.abs)
		if rel != tc.rel || ok != tc.ok {
			t.Errorf("Rel(%q) = %q, %v; want %q, %v", tc.abs, rel, ok, tc.rel, tc.ok)
		}
	}
	root := Location{Path: "/"}
	if rel, ok := root.Rel("/etc/passwd"); !ok || rel != "etc/passwd" || root.Abs(rel) != "/etc/passwd" {
		t.Errorf("root location: Rel = %q, %v; Abs = %q", rel, ok, root.Abs(rel))
	}
}

// TestTreeOperations builds a small tree through Batch and checks subtree listing, a directory
// move (paths below follow, ids stay), and a subtree delete, including a non-UTF-8 name.
func TestTreeOperations(t *testing.T) {
	ctx := context.Background()
	s := openTest(t)
	dev, err := s.EnsureDevice(ctx, Device{UUID: "d1", Name: "d", Slug: "d", OS: "linux"})
	if err != nil {
		t.Fatal(err)
	}
	loc, err := s.AddLocation(ctx, dev, "/root", ModeContent, LocationConfig{})
	if err != nil {
		t.Fatal(err)
	}
	b, err := s.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	ins := func(parent int64, dirRel, name string, k Kind) int64 {
		t.Helper()
		id, err := b.InsertEntry(&Entry{LocationID: loc.ID, ParentID: parent, Name: name, Kind: k}, JoinRel(dirRel, name))
		if err != nil {
			t.Fatal(err)
		}
		return id
	}
	a := ins(loc.RootEntryID, "", "a", KindDir)
	ab := ins(a, "a", "b", KindDir)
	ins(ab, "a/b", "f1", KindFile)
	bad := "caf\xe9" // Latin-1, not UTF-8
	ins(ab, "a/b", bad, KindFile)
	ins(a, "a", "f2", KindFile)
	c := ins(loc.RootEntryID, "", "c", KindDir)
	ins(loc.RootEntryID, "", "a0", KindFile) // sorts right after "a/": must not be inside a's range
	if err := b.Commit(); err != nil {
		t.Fatal(err)
	}
	list := func(rel string) []string {
		var out []string
		for l, err := range s.Subtree(ctx, loc, rel) {
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, l.Rel)
		}
		return out
	}
	if got := list("a"); len(got) != 4 || got[0] != "a/f2" && got[0] != "a/b" {
		t.Fatalf("subtree of a = %q", got)
	}
	// Move a under c as "moved".
	b, _ = s.Begin(ctx)
	if err := b.Move(loc.ID, a, KindDir, c, "moved", "a", "c/moved"); err != nil {
		t.Fatal(err)
	}
	if err := b.Commit(); err != nil {
		t.Fatal(err)
	}
	got := list("c")
	want := map[string]bool{"c/moved": true, "c/moved/b": true, "c/moved/f2": true, "c/moved/b/f1": true, "c/moved/b/" + bad: true}
	if len(got) != len(want) {
		t.Fatalf("after move, subtree of c = %q", got)
	}
	for _, g := range got {
		if !want[g] {
			t.Errorf("unexpected %q after move", g)
		}
	}
	if p, err := s.DirPath(ctx, ab); err != nil || p != "c/moved/b" {
		t.Fatalf("dir path of b after move = %q, %v", p, err)
	}
	e, err := s.EntryAt(ctx, loc, "c/moved/b/"+bad)
	if err != nil || e.Name != bad {
		t.Fatalf("EntryAt non-UTF-8 name: %v %+v", err, e)
	}
	// Delete the moved subtree.
	b, _ = s.Begin(ctx)
	n, err := b.Delete(loc.ID, a, KindDir, "c/moved")
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Commit(); err != nil {
		t.Fatal(err)
	}
	if n != 5 {
		t.Errorf("deleted %d entries, want 5", n)
	}
	if got := list(""); len(got) != 2 {
		t.Errorf("after delete, location holds %q, want c and a0", got)
	}
}

func TestHostileCorruptDatabase(t *testing.T) {
	p := filepath.Join(t.TempDir(), "library.db")
	if err := writeFile(p, []byte("this is not a sqlite database, just some text that is long enough to look like a header......")); err != nil {
		t.Fatal(err)
	}
	_, err := Open(context.Background(), p, Options{})
	if err == nil || !isCorrupt(err) {
		t.Fatalf("Open(corrupt) = %v, want ErrCorrupt", err)
	}
}

func TestLocationConfigRoundTrip(t *testing.T) {
	ctx := context.Background()
	s := openTest(t)
	dev, _ := s.EnsureDevice(ctx, Device{UUID: "d", Name: "d", Slug: "d", OS: "linux"})
	cfg := LocationConfig{IgnoreHidden: true, Ignore: []string{"*.tmp", "build/"}}
	if _, err := s.AddLocation(ctx, dev, "/x", ModeDeep, cfg); err != nil {
		t.Fatal(err)
	}
	l, err := s.LocationByPath(ctx, "/x")
	if err != nil {
		t.Fatal(err)
	}
	if l.IndexMode != ModeDeep || !l.Config.IgnoreHidden || l.Config.NoIgnore || len(l.Config.Ignore) != 2 || l.Config.Ignore[1] != "build/" {
		t.Fatalf("location read back as %+v", l)
	}
}

func TestEnsureModel(t *testing.T) {
	ctx := context.Background()
	s := openTest(t)
	cols := []ModelColumn{{Name: "content_uuid", Type: "uuid", Index: true}, {Name: "score", Type: "real", Nullable: true}}
	table, err := s.EnsureModel(ctx, "dev.cairn.photos", "faces", cols)
	if err != nil || table != "ext_dev_cairn_photos__faces" {
		t.Fatalf("EnsureModel = %q, %v", table, err)
	}
	if _, err := s.SQL().Exec(`INSERT INTO ` + table + ` (content_uuid, score) VALUES ('u', 0.5)`); err != nil {
		t.Fatal(err)
	}
	// A later version adds a column; the row survives.
	if _, err := s.EnsureModel(ctx, "dev.cairn.photos", "faces", append(cols, ModelColumn{Name: "person", Type: "text"})); err != nil {
		t.Fatal(err)
	}
	var n int
	var person string
	if err := s.SQL().QueryRow(`SELECT count(*), max(person) FROM `+table).Scan(&n, &person); err != nil || n != 1 || person != "" {
		t.Fatalf("after adding a column: %d rows, person %q, %v", n, person, err)
	}
	for _, bad := range []ModelColumn{{Name: "x; DROP TABLE entries", Type: "text"}, {Name: "ok", Type: "varchar"}, {Name: "id", Type: "integer"}} {
		if _, err := s.EnsureModel(ctx, "dev.x.y", "m", []ModelColumn{bad}); err == nil {
			t.Errorf("column %+v accepted", bad)
		}
	}
	if _, err := s.EnsureModel(ctx, "dev.x.y", "Robert'); DROP", nil); err == nil {
		t.Error("bad model name accepted")
	}
}
