package main

import (
	"context"
	"fmt"

	"github.com/cairnfs/cairn/core/store"
)

func init() {
	register(command{name: "dupes", summary: "list contents held by more than one entry", run: runDupes,
		usage: []string{"dupes [--min-size BYTES] [--json]"},
		about: "Lists the contents that more than one file holds (same content id), most wasted bytes first, with every path " +
			"that holds each. Only identified files count: shallow locations have no content ids.",
		examples: []string{"cairn dupes", "cairn dupes --min-size 1000000 --json"}})
}

type dupeJSON struct {
	CasID       string   `json:"cas_id"`
	ContentUUID string   `json:"content_uuid"`
	Size        int64    `json:"size"`
	Count       int64    `json:"count"`
	Wasted      int64    `json:"wasted_bytes"`
	Paths       []string `json:"paths"`
}

func runDupes(ctx context.Context, a *app, args []string) error {
	fs := newFlags("dupes", a)
	asJSON := fs.Bool("json", false, "print JSON lines")
	minSize := fs.Int64("min-size", 0, "only contents of at least this many bytes")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 0 {
		return usagef("dupes takes no arguments")
	}
	lib, err := a.open(ctx, false, false)
	if err != nil {
		return err
	}
	defer lib.Close()
	locs := map[int64]*store.Location{}
	var groups, wasted int64
	for g, err := range lib.Store.Dupes(ctx) {
		if err != nil {
			return err
		}
		if g.Content.Size < *minSize {
			continue
		}
		ents, err := lib.Store.EntriesOfContent(ctx, g.Content.ID)
		if err != nil {
			return err
		}
		d := dupeJSON{CasID: g.Content.CasID, ContentUUID: g.Content.UUID, Size: g.Content.Size, Count: g.Count, Wasted: g.Wasted}
		for i := range ents {
			loc, ok := locs[ents[i].LocationID]
			if !ok {
				if loc, err = lib.Store.LocationByID(ctx, ents[i].LocationID); err != nil {
					return err
				}
				locs[loc.ID] = loc
			}
			rel, err := lib.Store.EntryRel(ctx, &ents[i])
			if err != nil {
				return err
			}
			d.Paths = append(d.Paths, loc.Abs(rel))
		}
		groups++
		wasted += d.Wasted
		if *asJSON {
			if err := a.jsonLine(d); err != nil {
				return err
			}
			continue
		}
		fmt.Fprintf(a.stdout, "%s  %d copies × %s (%s wasted)\n", d.CasID, d.Count, humanBytes(d.Size), humanBytes(d.Wasted))
		for _, p := range d.Paths {
			fmt.Fprintf(a.stdout, "    %s\n", shown(p))
		}
	}
	if !*asJSON {
		fmt.Fprintf(a.stdout, "%d duplicated contents, %s wasted\n", groups, humanBytes(wasted))
	}
	return nil
}
