package hosttest

import (
	"context"
	"encoding/hex"
	"os"
	"path"
	"path/filepath"
	"sort"
	"testing"

	"github.com/google/uuid"
	"github.com/zeebo/blake3"

	"github.com/cairnfs/cairn/core/store"
)

// Library is a test library.
type Library struct {
	Store *store.Store
	// Dir is the library folder (sidecars go below it).
	Dir string
	// DeviceID is the local device.
	DeviceID int64
	// Locations by the name given to NewLibrary.
	Locations map[string]*store.Location
	// Files by "<location name>/<rel>": the indexed file.
	Files map[string]File
}

// File is one indexed file.
type File struct {
	EntryID     int64
	ContentID   int64
	ContentUUID string
	CasID       string
	Location    *store.Location
	Rel         string
	Abs         string
	Size        int64
}

// NewLibrary makes a library with one location per key of tree (location name → rel path →
// content), writes the files under t.TempDir(), and indexes them (entries, dir_paths, content
// identities). Everything is removed when the test ends.
func NewLibrary(t testing.TB, tree map[string]map[string]string) *Library {
	t.Helper()
	ctx := context.Background()
	base := t.TempDir()
	st, err := store.Open(ctx, filepath.Join(base, "library.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	dev, err := st.EnsureDevice(ctx, store.Device{UUID: uuid.NewString(), Name: "test", Slug: "test", OS: "linux"})
	if err != nil {
		t.Fatal(err)
	}
	lib := &Library{Store: st, Dir: base, DeviceID: dev, Locations: map[string]*store.Location{}, Files: map[string]File{}}
	names := make([]string, 0, len(tree))
	for n := range tree {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, name := range names {
		root := filepath.Join(base, "locations", name)
		if err := os.MkdirAll(root, 0o755); err != nil {
			t.Fatal(err)
		}
		loc, err := st.AddLocation(ctx, dev, root, store.ModeDeep, store.LocationConfig{})
		if err != nil {
			t.Fatal(err)
		}
		lib.Locations[name] = loc
		b, err := st.Begin(ctx)
		if err != nil {
			t.Fatal(err)
		}
		dirs := map[string]int64{"": loc.RootEntryID}
		var dirOf func(rel string) int64
		dirOf = func(rel string) int64 {
			if id, ok := dirs[rel]; ok {
				return id
			}
			parent := dirOf(dirName(rel))
			id, err := b.InsertEntry(&store.Entry{LocationID: loc.ID, ParentID: parent, Name: path.Base(rel), Kind: store.KindDir}, rel)
			if err != nil {
				t.Fatal(err)
			}
			dirs[rel] = id
			return id
		}
		rels := make([]string, 0, len(tree[name]))
		for r := range tree[name] {
			rels = append(rels, r)
		}
		sort.Strings(rels)
		for _, rel := range rels {
			data := tree[name][rel]
			abs := filepath.Join(root, filepath.FromSlash(rel))
			if err := os.MkdirAll(filepath.Dir(abs), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(abs, []byte(data), 0o644); err != nil {
				t.Fatal(err)
			}
			parent := dirOf(dirName(rel))
			id, err := b.InsertEntry(&store.Entry{LocationID: loc.ID, ParentID: parent, Name: path.Base(rel),
				Extension: store.Extension(path.Base(rel)), Kind: store.KindFile, Size: int64(len(data))}, "")
			if err != nil {
				t.Fatal(err)
			}
			sum := blake3.Sum256([]byte(data))
			cas := hex.EncodeToString(sum[:8])
			cu := uuid.NewSHA1(uuid.NameSpaceURL, []byte(cas)).String()
			cid, err := b.UpsertContent(cas, cu, "test", int64(len(data)))
			if err != nil {
				t.Fatal(err)
			}
			if err := b.SetContent(id, cid); err != nil {
				t.Fatal(err)
			}
			lib.Files[name+"/"+rel] = File{EntryID: id, ContentID: cid, ContentUUID: cu, CasID: cas, Location: loc, Rel: rel, Abs: abs, Size: int64(len(data))}
		}
		if err := b.Commit(); err != nil {
			t.Fatal(err)
		}
	}
	return lib
}

func dirName(rel string) string {
	d := path.Dir(rel)
	if d == "." {
		return ""
	}
	return d
}
