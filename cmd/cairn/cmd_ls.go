package main

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"
	"unicode/utf8"

	"github.com/cairnfs/cairn/core/library"
	"github.com/cairnfs/cairn/core/store"
)

func init() {
	register(command{name: "ls", summary: "list indexed entries under a path", run: runLs,
		usage: []string{"ls PATH [--recursive] [--json]"},
		about: "Lists what the index holds at PATH: a folder's children (or, with --recursive, everything below it), or the file itself. " +
			"Each line gives the kind, the size (a folder's total), the modification time, the content id and the path. " +
			"Nothing is read from the files: run `cairn index` to bring the index up to date.",
		examples: []string{"cairn ls ~/Pictures", "cairn ls ~/Pictures --recursive --json | jq -r .path"}})
	register(command{name: "show", summary: "show one indexed entry, with what extensions recorded for it", run: runShow,
		usage: []string{"show PATH [--json]"},
		about: "Shows everything the library knows about one file or folder: its entry (size, times, inode), its content " +
			"(content id, integrity hash, type), its sidecars and stage ledger, and what each extension recorded for the " +
			"content (its metadata and stage data), grouped by extension id.",
		examples: []string{"cairn show ~/Pictures/cat.jpg", "cairn show --json ~/Pictures/cat.jpg | jq .extensions"}})
}

// entryJSON is the JSON shape of an entry in ls and show.
type entryJSON struct {
	ID            int64   `json:"id"`
	Path          string  `json:"path"`
	PathBytes     string  `json:"path_bytes,omitempty"` // base64 of the raw path when it is not valid UTF-8
	Name          string  `json:"name"`
	Kind          string  `json:"kind"`
	Size          int64   `json:"size"`
	MtimeNs       int64   `json:"mtime_ns"`
	Inode         uint64  `json:"inode"`
	CasID         *string `json:"cas_id"`
	ContentUUID   *string `json:"content_uuid"`
	ContentKind   *string `json:"content_kind"`
	Mime          *string `json:"mime"`
	LinkTarget    string  `json:"link_target,omitempty"`
	AggSize       *int64  `json:"agg_size,omitempty"`
	FileCount     *int64  `json:"file_count,omitempty"`
	DirCount      *int64  `json:"dir_count,omitempty"`
	ChildCount    *int64  `json:"child_count,omitempty"`
	IntegrityHash *string `json:"integrity_hash,omitempty"`
	IntegrityAlgo string  `json:"integrity_algo,omitempty"`
	CasAlgo       string  `json:"cas_algo,omitempty"`
	// show only: what the pipeline's stages found.
	Media    json.RawMessage     `json:"media,omitempty"`
	FileType json.RawMessage     `json:"filetype,omitempty"`
	Text     json.RawMessage     `json:"text,omitempty"`
	Sidecars []sidecarJSON       `json:"sidecars,omitempty"`
	Stages   []store.StageRecord `json:"stages,omitempty"`
	// AccessError (show only) says the file or folder cannot be read now: permission denied.
	AccessError string `json:"access_error,omitempty"`
	// Extensions is what each extension recorded about the file, by extension id.
	Extensions map[string]*store.ExtensionData `json:"extensions,omitempty"`
}

// sidecarJSON is a sidecar as show and sidecar ls print it.
type sidecarJSON struct {
	Kind     string `json:"kind"`
	Variant  string `json:"variant"`
	Format   string `json:"format"`
	Status   string `json:"status"`
	Storage  string `json:"storage,omitempty"` // "file", or "content": the sidecar is the file itself (Path)
	Path     string `json:"path,omitempty"`
	Size     int64  `json:"size,omitempty"`
	Checksum string `json:"checksum,omitempty"`
	Source   string `json:"source,omitempty"`
	Error    string `json:"error,omitempty"`
}

func strPtr(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func toJSON(loc *store.Location, l *store.Listed) entryJSON {
	p := loc.Abs(l.Rel)
	j := entryJSON{ID: l.ID, Path: p, Name: l.Name, Kind: l.Kind.String(), Size: l.Size, MtimeNs: l.MtimeNs, Inode: l.Inode,
		CasID: strPtr(l.CasID), ContentUUID: strPtr(l.ContentUUID), ContentKind: strPtr(l.ContentKind), Mime: strPtr(l.Mime), LinkTarget: l.LinkTarget}
	if l.Rel == "" {
		j.Name = filepath.Base(p)
	}
	if !utf8.ValidString(p) {
		j.PathBytes = base64.StdEncoding.EncodeToString([]byte(p))
	}
	if l.Kind == store.KindDir {
		j.AggSize, j.FileCount, j.DirCount, j.ChildCount = &l.AggSize, &l.FileCount, &l.DirCount, &l.ChildCount
	}
	return j
}

// lookPath resolves a command-line path the way the index stores it: symlinks in its parent are
// resolved, the last element is kept (so `show link` shows the link, not its target).
func lookPath(p string) (string, error) {
	abs, err := filepath.Abs(p)
	if err != nil {
		return "", fmt.Errorf("resolving %s: %w", p, err)
	}
	abs = filepath.Clean(abs)
	if abs == "/" {
		return abs, nil
	}
	if dir, err := filepath.EvalSymlinks(filepath.Dir(abs)); err == nil {
		return filepath.Join(dir, filepath.Base(abs)), nil
	}
	return abs, nil
}

// accessError is the permission error that keeps cairn from reading the file or folder at p
// (in a folder it may not search, a file it may not open, a folder it may not list), else nil.
func accessError(p string) error {
	st, err := os.Lstat(p)
	if err != nil {
		if errors.Is(err, fs.ErrPermission) {
			return err
		}
		return nil
	}
	if !st.Mode().IsRegular() && !st.IsDir() {
		return nil
	}
	f, err := os.Open(p)
	if err != nil {
		if errors.Is(err, fs.ErrPermission) {
			return err
		}
		return nil
	}
	defer f.Close()
	if st.IsDir() {
		if _, err := f.Readdirnames(1); err != nil && errors.Is(err, fs.ErrPermission) {
			return err
		}
	}
	return nil
}

// find returns the location and indexed entry at a command-line path.
func find(ctx context.Context, lib *library.Library, p string) (*store.Location, *store.Listed, error) {
	abs, err := lookPath(p)
	if err != nil {
		return nil, nil, err
	}
	loc, rel, err := lib.Store.LocationFor(ctx, abs)
	if err != nil {
		return nil, nil, err
	}
	e, err := lib.Store.EntryAt(ctx, loc, rel)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil, fmt.Errorf("%s is not indexed (run `cairn index`)", abs)
	}
	if err != nil {
		return nil, nil, err
	}
	l := &store.Listed{Entry: *e, Rel: rel}
	if e.ContentID != 0 {
		c, err := lib.Store.ContentByID(ctx, e.ContentID)
		if err != nil {
			return nil, nil, err
		}
		l.CasID, l.ContentUUID, l.ContentKind, l.Mime = c.CasID, c.UUID, c.Kind, c.Mime
	}
	return loc, l, nil
}

func runLs(ctx context.Context, a *app, args []string) error {
	fs := newFlags("ls", a)
	asJSON := fs.Bool("json", false, "print JSON lines")
	recursive := fs.Bool("recursive", false, "list everything below PATH")
	fs.BoolVar(recursive, "r", false, "short for --recursive")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usagef("ls takes one PATH")
	}
	lib, err := a.open(ctx, false, false)
	if err != nil {
		return err
	}
	defer lib.Close()
	loc, top, err := find(ctx, lib, pos[0])
	if err != nil {
		return err
	}
	print := func(l *store.Listed) error {
		if *asJSON {
			return a.jsonLine(toJSON(loc, l))
		}
		size := l.Size
		if l.Kind == store.KindDir {
			size = l.AggSize
		}
		cas := l.CasID
		if cas == "" {
			cas = "-"
		}
		_, err := fmt.Fprintf(a.stdout, "%-7s %12d  %s  %-16s  %s\n", l.Kind, size,
			time.Unix(0, l.MtimeNs).Format("2006-01-02 15:04"), cas, shown(loc.Abs(l.Rel)))
		return err
	}
	if top.Kind != store.KindDir {
		return print(top)
	}
	var seq func(func(store.Listed, error) bool)
	if *recursive {
		seq = lib.Store.Subtree(ctx, loc, top.Rel)
	} else {
		seq = lib.Store.Children(ctx, loc, top.Rel, top.ID)
	}
	for l, err := range seq {
		if err != nil {
			return err
		}
		if err := print(&l); err != nil {
			return err
		}
	}
	return nil
}

func runShow(ctx context.Context, a *app, args []string) error {
	fs := newFlags("show", a)
	asJSON := fs.Bool("json", false, "print JSON")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usagef("show takes one PATH")
	}
	lib, err := a.open(ctx, false, false)
	if err != nil {
		return err
	}
	defer lib.Close()
	loc, l, err := find(ctx, lib, pos[0])
	if err != nil {
		if abs, aerr := lookPath(pos[0]); aerr == nil {
			if perr := accessError(abs); perr != nil {
				return fmt.Errorf("%s: permission denied: cairn cannot read it, so it is not indexed (%w)", abs, perr)
			}
		}
		return err
	}
	j := toJSON(loc, l)
	if perr := accessError(j.Path); perr != nil {
		j.AccessError = perr.Error()
	}
	if l.ContentID != 0 {
		c, err := lib.Store.ContentByID(ctx, l.ContentID)
		if err != nil {
			return err
		}
		j.IntegrityHash, j.IntegrityAlgo, j.CasAlgo = strPtr(c.IntegrityHash), c.IntegrityAlgo, c.CasAlgo
		if err := addDerived(ctx, lib, l.ContentID, &j); err != nil {
			return err
		}
	}
	if j.Extensions, err = lib.Store.ExtensionDataOf(ctx, l.ID, l.ContentID); err != nil {
		return err
	}
	if len(j.Extensions) == 0 {
		j.Extensions = nil
	}
	if *asJSON {
		return a.jsonLine(j)
	}
	w := a.stdout
	fmt.Fprintf(w, "path:      %s\n", shown(j.Path))
	fmt.Fprintf(w, "kind:      %s\n", j.Kind)
	fmt.Fprintf(w, "size:      %d (%s)\n", j.Size, humanBytes(j.Size))
	fmt.Fprintf(w, "modified:  %s\n", time.Unix(0, j.MtimeNs).Format(time.RFC3339Nano))
	fmt.Fprintf(w, "inode:     %d\n", j.Inode)
	if j.LinkTarget != "" {
		fmt.Fprintf(w, "target:    %s\n", shown(j.LinkTarget))
	}
	if j.AccessError != "" {
		fmt.Fprintf(w, "access:    %s (cairn cannot read it: what follows is from the last time it could)\n", j.AccessError)
	}
	if j.AggSize != nil {
		fmt.Fprintf(w, "contains:  %d files, %d dirs, %s (%d direct children)\n", *j.FileCount, *j.DirCount, humanBytes(*j.AggSize), *j.ChildCount)
	}
	if j.CasID != nil {
		fmt.Fprintf(w, "cas_id:    %s (%s)\n", *j.CasID, j.CasAlgo)
		fmt.Fprintf(w, "content:   %s (%s)\n", *j.ContentUUID, *j.ContentKind)
		if j.IntegrityHash != nil {
			fmt.Fprintf(w, "integrity: %s (%s)\n", *j.IntegrityHash, j.IntegrityAlgo)
		} else {
			fmt.Fprintln(w, "integrity: not computed yet (`cairn verify PATH`)")
		}
	} else if j.Kind == "file" {
		fmt.Fprintln(w, "content:   none (empty file, shallow location, or not identified yet)")
	}
	printDerived(w, j)
	return nil
}
