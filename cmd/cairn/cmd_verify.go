package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/cairnfs/cairn/core/cas"
	"github.com/cairnfs/cairn/core/jobs"
	"github.com/cairnfs/cairn/core/store"
)

func init() {
	register(command{name: "verify", summary: "check files against their full-file BLAKE3 (computed and stored on first run)", run: runVerify,
		usage: []string{"verify [PATH] [--json] [--all]"},
		about: "Hashes every identified file under PATH (default: all locations) in full with BLAKE3. The first run records " +
			"the hash; later runs report files whose bytes changed while their size and mtime did not (mismatch: possible " +
			"corruption) and files edited since they were indexed (modified: size or mtime changed; `cairn index` records " +
			"the new version). Exits 1 on a mismatch or a read error.",
		examples: []string{"cairn verify ~/Pictures", "cairn verify --json --all"}})
}

// verifyJSON is one checked file. Status is one of
//
//	ok        the bytes hash to the recorded full-file BLAKE3
//	recorded  no hash was recorded yet: it is now
//	mismatch  the bytes differ from the recorded ones while size and mtime did not change: nothing
//	          that writes files the usual way does that, so it is possible corruption (exit 1)
//	modified  size or mtime differ from the index: the file was edited since it was recorded
//	          (not a failed check; `cairn index` records the new version)
//	error     the file could not be read (exit 1)
type verifyJSON struct {
	Path     string `json:"path"`
	CasID    string `json:"cas_id"`
	Status   string `json:"status"`
	Reason   string `json:"reason,omitempty"`
	Expected string `json:"expected,omitempty"`
	Actual   string `json:"actual,omitempty"`
	Error    string `json:"error,omitempty"`
	// For modified: what the index recorded and what is on disk now.
	RecordedSize    *int64 `json:"recorded_size,omitempty"`
	Size            *int64 `json:"size,omitempty"`
	RecordedMtimeNs *int64 `json:"recorded_mtime_ns,omitempty"`
	MtimeNs         *int64 `json:"mtime_ns,omitempty"`
}

const (
	reasonCorrupt  = "possible corruption: content changed but size and mtime did not"
	reasonModified = "modified since recorded"
)

var errMismatch = errors.New("integrity check failed")

func runVerify(ctx context.Context, a *app, args []string) error {
	fs := newFlags("verify", a)
	asJSON := fs.Bool("json", false, "print one JSON line per problem (and per file with --all), then a summary line")
	all := fs.Bool("all", false, "report every file, not only problems")
	noProgress := fs.Bool("no-progress", false, "do not draw a progress bar")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 1 {
		return usagef("verify takes at most one PATH")
	}
	lib, err := a.open(ctx, true, false)
	if err != nil {
		return err
	}
	defer lib.Close()
	type target struct {
		loc *store.Location
		rel string
		top *store.Listed
	}
	var targets []target
	if len(pos) == 1 {
		loc, top, err := find(ctx, lib, pos[0])
		if err != nil {
			return err
		}
		targets = append(targets, target{loc, top.Rel, top})
	} else {
		locs, err := lib.Store.Locations(ctx)
		if err != nil {
			return err
		}
		for i := range locs {
			targets = append(targets, target{loc: &locs[i]})
		}
	}
	bar := newProgressBar(a.stderr, !*noProgress && !*asJSON)
	sm := cas.NewSampler()
	var n, ok, recorded, modified, mismatches, problems int64
	start := time.Now()
	check := func(loc *store.Location, l *store.Listed) error {
		if l.Kind != store.KindFile || l.ContentID == 0 {
			return nil
		}
		n++
		bar.update(jobs.Progress{Phase: "verify", Done: n})
		p := loc.Abs(l.Rel)
		c, err := lib.Store.ContentByID(ctx, l.ContentID)
		if err != nil {
			return err
		}
		r := verifyJSON{Path: p, CasID: c.CasID}
		if err := verifyFile(ctx, lib.Store, sm, l, c, &r); err != nil {
			return err
		}
		switch r.Status {
		case "ok":
			ok++
		case "recorded":
			recorded++
		case "modified":
			modified++
		case "mismatch":
			mismatches++
			problems++
		default:
			problems++
		}
		if r.Status != "ok" && r.Status != "recorded" || *all {
			bar.done()
			if *asJSON {
				return a.jsonLine(r)
			}
			detail := r.Error
			switch r.Status {
			case "mismatch":
				detail = fmt.Sprintf("%s (expected %s, found %s)", r.Reason, r.Expected, r.Actual)
			case "modified":
				detail = fmt.Sprintf("%s (size %d → %d bytes, mtime %s → %s; `cairn index` records it)", r.Reason, *r.RecordedSize, *r.Size,
					time.Unix(0, *r.RecordedMtimeNs).Format(time.RFC3339), time.Unix(0, *r.MtimeNs).Format(time.RFC3339))
			}
			fmt.Fprintf(a.stdout, "%-8s %s %s\n", r.Status, p, detail)
		}
		return nil
	}
	for _, t := range targets {
		if t.top != nil && t.top.Kind != store.KindDir {
			if err := check(t.loc, t.top); err != nil {
				return err
			}
			continue
		}
		for l, err := range lib.Store.Subtree(ctx, t.loc, t.rel) {
			if err != nil {
				return err
			}
			if err := check(t.loc, &l); err != nil {
				return err
			}
		}
	}
	bar.done()
	if *asJSON {
		if err := a.jsonLine(map[string]any{"summary": true, "files": n, "ok": ok, "recorded": recorded, "modified": modified,
			"mismatches": mismatches, "problems": problems,
			"duration_ms": time.Since(start).Milliseconds()}); err != nil {
			return err
		}
	} else {
		fmt.Fprintf(a.stdout, "verified %d files: %d ok, %d recorded for the first time, %d modified since recorded, %d problems (%d possible corruption)\n",
			n, ok, recorded, modified, problems, mismatches)
	}
	if problems > 0 {
		return fmt.Errorf("%w: %d of %d files", errMismatch, problems, n)
	}
	return nil
}

// verifyFile checks one file against its content record c and fills r's status. A file whose
// size or mtime differs from its entry (before or after hashing) was edited: it is reported as
// modified without its hash being compared. Otherwise any difference in the bytes, seen by the
// sampled content id or by the full hash, is a mismatch.
func verifyFile(ctx context.Context, st *store.Store, sm *cas.Sampler, l *store.Listed, c *store.Content, r *verifyJSON) error {
	edited := func() (bool, error) {
		fi, err := os.Stat(r.Path)
		if err != nil {
			return false, err
		}
		size, mtime := fi.Size(), fi.ModTime().UnixNano()
		if size == l.Size && mtime == l.MtimeNs {
			return false, nil
		}
		r.Status, r.Reason = "modified", reasonModified
		r.RecordedSize, r.Size, r.RecordedMtimeNs, r.MtimeNs = &l.Size, &size, &l.MtimeNs, &mtime
		return true, nil
	}
	fail := func(err error) error {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		r.Status, r.Error = "error", err.Error()
		return nil
	}
	if e, err := edited(); err != nil || e {
		if err != nil {
			return fail(err)
		}
		return nil
	}
	casNow, _, err := sm.SumFile(r.Path)
	if err != nil {
		return fail(err)
	}
	sum, _, err := cas.FullHashFile(ctx, r.Path)
	if err != nil {
		return fail(err)
	}
	if e, err := edited(); err != nil || e { // written to while it was being read
		if err != nil {
			return fail(err)
		}
		return nil
	}
	switch {
	case casNow != c.CasID:
		r.Status, r.Reason, r.Expected, r.Actual = "mismatch", reasonCorrupt, c.CasID, casNow
	case c.IntegrityHash == "":
		if err := st.SetIntegrity(ctx, c.ID, cas.AlgoFull, sum); err != nil {
			return err
		}
		r.Status, r.Actual = "recorded", sum
	case c.IntegrityHash != sum:
		r.Status, r.Reason, r.Expected, r.Actual = "mismatch", reasonCorrupt, c.IntegrityHash, sum
	default:
		r.Status = "ok"
	}
	return nil
}
