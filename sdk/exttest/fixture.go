package exttest

import (
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"

	"github.com/cairnfs/cairn/sdk/cairn"
)

//go:embed fixture
var fixtureFS embed.FS

// DefaultFiles is the default fixture tree: a few small text files (plain,
// Markdown, CSV, JSON, UTF-8 beyond ASCII, one empty, one without a final
// newline), a 1×1 PNG and 300 random bytes.
func DefaultFiles() fs.FS {
	sub, err := fs.Sub(fixtureFS, "fixture")
	if err != nil {
		panic(err)
	}
	return sub
}

// MountPoint is where the fixture tree appears inside the module.
const MountPoint = "/data"

// fixtureLocation is the location UUID fixture entries belong to.
const fixtureLocation = "00000000-0000-4000-8000-0000000000da"

// File is one file of a fixture tree, as the fake host knows it.
type File struct {
	Rel   string      // slash-separated path relative to the tree's root
	Entry cairn.Entry // its entry (entries.query)
	Item  cairn.Item  // its item (stage batches); zero for directories
}

// types maps file extensions to a MIME type and a content kind, as the host's
// file-type stage would.
var types = map[string][2]string{
	".txt":  {"text/plain", "text"},
	".md":   {"text/markdown", "text"},
	".csv":  {"text/csv", "text"},
	".json": {"application/json", "text"},
	".go":   {"text/x-go", "text"},
	".html": {"text/html", "text"},
	".png":  {"image/png", "image"},
	".jpg":  {"image/jpeg", "image"},
	".jpeg": {"image/jpeg", "image"},
	".pdf":  {"application/pdf", "document"},
	".bin":  {"application/octet-stream", "binary"},
	".gz":   {"application/gzip", "archive"},
	".svg":  {"image/svg+xml", "image"},
}

// ScanFiles lists a fixture tree in path order, with deterministic ids,
// content UUIDs and cas_ids derived from paths and bytes, and guest paths
// under MountPoint.
func ScanFiles(fsys fs.FS) ([]File, error) {
	var out []File
	err := fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if p == "." {
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		f := File{Rel: p, Entry: cairn.Entry{
			ID:      int64(len(out) + 1),
			Path:    path.Join(MountPoint, p),
			Name:    d.Name(),
			Kind:    "file",
			MtimeNs: 1_700_000_000_000_000_000 + int64(len(out))*1_000_000_000,
		}}
		switch {
		case d.IsDir():
			f.Entry.Kind = "dir"
		case !d.Type().IsRegular():
			return nil // symlinks and the like are not part of fixtures
		default:
			data, err := fs.ReadFile(fsys, p)
			if err != nil {
				return err
			}
			sum := sha256.Sum256(data)
			f.Entry.Size = info.Size()
			f.Entry.ContentUUID = contentUUID(p)
			f.Entry.CasID = hex.EncodeToString(sum[:8])
			t := types[strings.ToLower(path.Ext(p))]
			f.Entry.Mime, f.Entry.ContentKind = t[0], t[1]
			f.Item = cairn.Item{ContentUUID: f.Entry.ContentUUID, CasID: f.Entry.CasID, Size: f.Entry.Size,
				Path: f.Entry.Path, Name: f.Entry.Name, Mime: f.Entry.Mime, Kind: f.Entry.ContentKind}
		}
		out = append(out, f)
		return nil
	})
	return out, err
}

// Items returns the items of a fixture's files, in path order.
func Items(files []File) []cairn.Item {
	var items []cairn.Item
	for _, f := range files {
		if f.Entry.Kind == "file" {
			items = append(items, f.Item)
		}
	}
	return items
}

// contentUUID derives a stable UUID (version 8 layout) from a path.
func contentUUID(p string) string {
	h := sha256.Sum256([]byte("cairn-exttest:" + p))
	h[6] = h[6]&0x0f | 0x80
	h[8] = h[8]&0x3f | 0x80
	x := hex.EncodeToString(h[:16])
	return x[0:8] + "-" + x[8:12] + "-" + x[12:16] + "-" + x[16:20] + "-" + x[20:32]
}

// materialize writes the files of fsys that keep allows into dir, for a
// read-only mount.
func materialize(fsys fs.FS, files []File, dir string, keep func(rel string) bool) error {
	for _, f := range files {
		if f.Entry.Kind != "file" || !keep(f.Rel) {
			continue
		}
		data, err := fs.ReadFile(fsys, f.Rel)
		if err != nil {
			return err
		}
		dst := filepath.Join(dir, filepath.FromSlash(f.Rel))
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(dst, data, 0o444); err != nil {
			return fmt.Errorf("exttest: write fixture: %w", err)
		}
	}
	return nil
}

// filterItems keeps the items a stage's filter selects, as the host would
// before calling it.
func filterItems(items []cairn.Item, f filterSpec) []cairn.Item {
	var out []cairn.Item
	for _, it := range items {
		if f.match(it) {
			out = append(out, it)
		}
	}
	return out
}

type filterSpec struct {
	kinds, mimes, globs []string
	minSize, maxSize    int64
}

func (f filterSpec) match(it cairn.Item) bool {
	// Kinds and mimes are alternatives, as in the host's pipeline filter: a file of one of the
	// kinds or of one of the MIME types.
	if len(f.kinds) > 0 || len(f.mimes) > 0 {
		ok := contains(f.kinds, it.Kind)
		for _, m := range f.mimes {
			if m == it.Mime || (strings.HasSuffix(m, "/*") && strings.HasPrefix(it.Mime, strings.TrimSuffix(m, "*"))) {
				ok = true
			}
		}
		if !ok {
			return false
		}
	}
	if len(f.globs) > 0 && !matchAny(f.globs, strings.TrimPrefix(it.Path, MountPoint+"/")) {
		return false
	}
	if f.minSize > 0 && it.Size < f.minSize {
		return false
	}
	if f.maxSize > 0 && it.Size > f.maxSize {
		return false
	}
	return true
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
