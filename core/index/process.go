package index

import (
	"context"
	"errors"
	"fmt"
	"time"

	"golang.org/x/sys/unix"

	"github.com/cairnfs/cairn/core/jobs"
	"github.com/cairnfs/cairn/core/store"
)

// delta is a change to a directory's aggregates caused by its direct children.
type delta struct{ size, files, dirs, children int64 }

type candidate struct {
	id, parent int64
	name       string
	kind       store.Kind
}

// processor applies walk results to the store. It is used from one goroutine.
type processor struct {
	st    *store.Store
	loc   *store.Location
	run   *jobs.Run
	cp    *checkpoint
	opts  Options
	jobID int64

	batch      *store.Batch
	ops        int
	lastCommit time.Time

	dirIDs     map[string]int64 // dirs whose own result is still to come: rel → id
	newDirs    map[int64]bool   // dirs inserted by this run: they have no indexed children to diff
	parents    map[int64]int64  // dir id → parent id, for aggregate propagation
	deltas     map[int64]delta  // direct deltas of this batch, by parent dir
	candidates []candidate      // entries not found on disk (deleted after the walk)
	scratch    []store.Child
	seen       int64
	// detectMoves is off for a location's first index: nothing indexed can have moved, and the
	// inode lookup per new entry would double the cost of the first walk.
	detectMoves bool
}

func (p *processor) begin(ctx context.Context) error {
	if p.batch != nil {
		return nil
	}
	b, err := p.st.Begin(ctx)
	if err != nil {
		return err
	}
	p.batch, p.ops, p.lastCommit = b, 0, time.Now()
	return nil
}

// commit flushes aggregates, saves the checkpoint in the same transaction and commits.
func (p *processor) commit(ctx context.Context) error {
	if p.batch == nil {
		return nil
	}
	if err := p.flushDeltas(); err != nil {
		return err
	}
	if err := p.run.Save(ctx, p.batch.Tx(), p.cp); err != nil {
		return err
	}
	err := p.batch.Commit()
	p.batch = nil
	return err
}

func (p *processor) abort() {
	if p.batch != nil {
		p.batch.Rollback()
		p.batch = nil
	}
}

func (p *processor) maybeCommit(ctx context.Context) error {
	if p.ops >= p.opts.BatchSize || (p.ops > 0 && time.Since(p.lastCommit) > time.Second) {
		if err := p.commit(ctx); err != nil {
			return err
		}
		if err := p.run.Check(ctx); err != nil {
			return err
		}
	}
	return nil
}

func (p *processor) addDelta(dir int64, d delta) {
	t := p.deltas[dir]
	t.size += d.size
	t.files += d.files
	t.dirs += d.dirs
	t.children += d.children
	p.deltas[dir] = t
}

func (p *processor) parentOf(id int64) (int64, error) {
	if par, ok := p.parents[id]; ok {
		return par, nil
	}
	par, _, err := p.batch.ParentOf(id)
	if err != nil {
		return 0, fmt.Errorf("finding parent of %d: %w", id, err)
	}
	p.parents[id] = par
	return par, nil
}

// flushDeltas applies the batch's direct deltas to each directory and all its ancestors.
func (p *processor) flushDeltas() error {
	if len(p.deltas) == 0 {
		return nil
	}
	total := make(map[int64]delta, len(p.deltas)*2)
	for dir, d := range p.deltas {
		t := total[dir]
		t.size, t.files, t.dirs, t.children = t.size+d.size, t.files+d.files, t.dirs+d.dirs, t.children+d.children
		total[dir] = t
		for a, err := p.parentOf(dir); a != 0; a, err = p.parentOf(a) {
			if err != nil {
				return err
			}
			t := total[a]
			t.size, t.files, t.dirs = t.size+d.size, t.files+d.files, t.dirs+d.dirs
			total[a] = t
		}
	}
	for id, t := range total {
		if t == (delta{}) {
			continue
		}
		if err := p.batch.AddAggregates(id, t.size, t.files, t.dirs, t.children); err != nil {
			return err
		}
	}
	clear(p.deltas)
	return nil
}

func (p *processor) change(op, rel, from string, k store.Kind) {
	s := &p.cp.Summary
	if len(s.Changes) >= p.opts.MaxChanges {
		s.Truncated = true
		return
	}
	c := Change{Op: op, Path: p.loc.Abs(rel), Kind: k.String()}
	if from != "" {
		c.From = p.loc.Abs(from)
	}
	s.Changes = append(s.Changes, c)
}

// discover runs the walk and applies its results, then the deletions.
func (p *processor) discover(ctx context.Context) error {
	p.dirIDs = map[string]int64{}
	p.newDirs = map[int64]bool{}
	p.parents = map[int64]int64{p.loc.RootEntryID: 0}
	p.deltas = map[int64]delta{}
	s := &p.cp.Summary
	s.Files, s.Dirs, s.Symlinks, s.Special, s.Bytes, s.Ignored = 0, 0, 0, 0, 0, 0
	// The root's aggregates estimate the walk's total in O(1) (counting the location would scan it).
	var estimate int64
	if root, err := p.st.EntryAt(ctx, p.loc, ""); err == nil {
		estimate = root.FileCount + root.DirCount
	}
	p.detectMoves = p.loc.LastIndexedAt != 0

	var st unix.Stat_t
	if err := unix.Stat(p.loc.Path, &st); err != nil {
		return fmt.Errorf("%w: %s: %v (is the drive mounted? the index is kept as it is)", ErrRootMissing, p.loc.Path, err)
	}
	results := make(chan DirResult, 256)
	walkCtx, cancelWalk := context.WithCancel(ctx)
	defer cancelWalk()
	walkErr := make(chan error, 1)
	go func() {
		walkErr <- walk(walkCtx, p.loc.Path, p.opts.Rules, p.opts.WalkWorkers, results)
		close(results)
	}()
	var procErr error
	for r := range results {
		if procErr != nil {
			continue // drain so the walkers can exit
		}
		if procErr = p.begin(ctx); procErr == nil {
			procErr = p.apply(r)
		}
		if procErr == nil {
			p.run.Progress(PhaseWalk, p.seen, max(estimate, p.seen))
			procErr = p.maybeCommit(ctx)
		}
		if procErr != nil {
			cancelWalk()
		}
	}
	werr := <-walkErr
	if procErr == nil && werr != nil {
		procErr = fmt.Errorf("walking %s: %w", p.loc.Path, werr)
	}
	if procErr != nil {
		if ctx.Err() != nil || errors.Is(procErr, jobs.ErrCancelled) {
			// A clean stop: keep what was applied (it is consistent), resume later.
			if cerr := p.commit(context.Background()); cerr != nil {
				p.abort()
			}
		} else {
			p.abort()
		}
		return procErr
	}
	if err := p.begin(ctx); err != nil {
		return err
	}
	p.cp.Phase = PhaseDelete
	if err := p.commit(ctx); err != nil {
		return err
	}
	return p.deletions(ctx)
}

// apply diffs one directory's listing against its indexed children.
func (p *processor) apply(r DirResult) error {
	s := &p.cp.Summary
	b := p.batch
	for _, sk := range r.Skips {
		if err := b.RecordSkip(p.jobID, p.loc.Abs(sk.Rel), sk.Reason); err != nil {
			return fmt.Errorf("recording skip: %w", err)
		}
		s.Skipped++
		p.ops++
	}
	for _, n := range r.Notes {
		if err := b.RecordSkip(p.jobID, p.loc.Abs(n.Rel), n.Reason); err != nil {
			return fmt.Errorf("recording note: %w", err)
		}
		s.Notes++
		p.ops++
	}
	s.Ignored += int64(r.Ignored)
	var dirID int64
	var err error
	if r.Rel == "" {
		dirID = p.loc.RootEntryID
	} else if id, ok := p.dirIDs[r.Rel]; ok {
		dirID = id
		delete(p.dirIDs, r.Rel)
	} else {
		id, err := b.DirID(p.loc.ID, r.Rel)
		if err != nil {
			return fmt.Errorf("applying %s: %w", r.Rel, err)
		}
		dirID = id
	}
	if !r.Readable {
		return nil // cannot access ≠ deleted: its indexed children stay as they are
	}
	existing := p.scratch[:0]
	if p.newDirs[dirID] {
		delete(p.newDirs, dirID)
	} else if existing, err = b.Children(dirID, p.scratch); err != nil {
		return err
	}
	p.scratch = existing
	byName := make(map[string]int, len(existing))
	for i, c := range existing {
		byName[c.Name] = i
	}
	if r.Rel == "" && len(r.Children) == 0 && len(existing) > 0 && !p.opts.AllowEmptyRoot {
		return fmt.Errorf("%w: %s is empty but %d entries are indexed below it; if its drive is unmounted, mount it; to accept the deletion run again with --allow-empty-root",
			ErrRootMissing, p.loc.Path, len(existing))
	}
	var fresh []store.Entry // new entries of this directory, inserted together
	for _, c := range r.Children {
		p.seen++
		rel := store.JoinRel(r.Rel, c.Name)
		switch c.Kind {
		case store.KindFile:
			s.Files++
			s.Bytes += c.Size
		case store.KindDir:
			s.Dirs++
		case store.KindSymlink:
			s.Symlinks++
		case store.KindFIFO, store.KindDevice, store.KindSocket:
			s.Special++
		}
		if i, ok := byName[c.Name]; ok {
			ex := existing[i]
			delete(byName, c.Name)
			if ex.Kind == c.Kind {
				if err := p.update(dirID, rel, ex, c); err != nil {
					return err
				}
				continue
			}
			// Same name, different kind: the old entry is gone.
			if err := p.remove(candidate{id: ex.ID, parent: dirID, name: ex.Name, kind: ex.Kind}, rel); err != nil {
				return err
			}
		}
		moved, err := p.tryMove(dirID, r.Rel, rel, c)
		if err != nil {
			return err
		}
		if moved {
			continue
		}
		fresh = append(fresh, store.Entry{LocationID: p.loc.ID, ParentID: dirID, Name: c.Name, Extension: extensionFor(c), Kind: c.Kind,
			Size: c.Size, MtimeNs: c.MtimeNs, Inode: c.Inode, LinkTarget: c.LinkTarget})
	}
	if len(fresh) > 0 {
		ids, err := b.InsertChildren(fresh, r.Rel)
		if err != nil {
			return err
		}
		for i := range fresh {
			c := &fresh[i]
			rel := store.JoinRel(r.Rel, c.Name)
			p.ops++
			s.RunWritten++
			s.New++
			p.change("new", rel, "", c.Kind)
			p.addDelta(dirID, childDelta(c.Kind, c.Size, 0, 0, 0, 1))
			if c.Kind == store.KindDir {
				p.dirIDs[rel] = ids[i]
				p.parents[ids[i]] = dirID
				p.newDirs[ids[i]] = true
			}
		}
	}
	for name, i := range byName {
		ex := existing[i]
		p.candidates = append(p.candidates, candidate{id: ex.ID, parent: dirID, name: name, kind: ex.Kind})
	}
	return nil
}

func extensionFor(c Stat) string {
	if c.Kind != store.KindFile {
		return ""
	}
	return store.Extension(c.Name)
}

// childDelta is the effect on its parent of one child appearing (sign +1) with these aggregates.
func childDelta(k store.Kind, size, aggSize, fileCount, dirCount, sign int64) delta {
	switch k {
	case store.KindFile:
		return delta{size: sign * size, files: sign, children: sign}
	case store.KindDir:
		return delta{size: sign * aggSize, files: sign * fileCount, dirs: sign * (dirCount + 1), children: sign}
	}
	return delta{children: sign}
}

// update compares an indexed child with what is on disk.
func (p *processor) update(dirID int64, rel string, ex store.Child, c Stat) error {
	s := &p.cp.Summary
	if c.Kind == store.KindDir {
		p.dirIDs[rel] = ex.ID
		p.parents[ex.ID] = dirID
	}
	if ex.Size == c.Size && ex.MtimeNs == c.MtimeNs && ex.Inode == c.Inode {
		return nil
	}
	contentChanged := c.Kind != store.KindDir
	if err := p.batch.UpdateStat(ex.ID, c.Size, c.MtimeNs, c.Inode, c.LinkTarget, contentChanged); err != nil {
		return err
	}
	p.ops++
	s.RunWritten++
	if contentChanged { // a directory's own mtime is refreshed, not reported
		s.Modified++
		p.change("modified", rel, "", c.Kind)
		if c.Kind == store.KindFile {
			p.addDelta(dirID, delta{size: c.Size - ex.Size})
		}
	}
	return nil
}

// tryMove looks for an indexed entry with the same inode whose old path is gone: that entry has
// moved here and keeps its id. If its old path is still there, this is a hard link (new entry).
func (p *processor) tryMove(dirID int64, dirRel, rel string, c Stat) (bool, error) {
	if c.Inode == 0 || !p.detectMoves {
		return false, nil
	}
	cands, err := p.batch.ByInode(p.loc.ID, c.Inode, c.Kind)
	if err != nil {
		return false, err
	}
	for _, cand := range cands {
		if cand.ParentID == 0 || cand.ID == dirID {
			continue
		}
		// A moved file keeps its size and mtime; anything else is an inode reused by a new file.
		if c.Kind == store.KindFile && (cand.Size != c.Size || cand.MtimeNs != c.MtimeNs) {
			continue
		}
		oldDir, err := p.batch.DirPath(cand.ParentID)
		if err != nil {
			return false, err
		}
		oldRel := store.JoinRel(oldDir, cand.Name)
		var st unix.Stat_t
		err = unix.Lstat(p.loc.Abs(oldRel), &st)
		if err == nil && st.Ino == c.Inode {
			continue // still there: a hard link
		}
		if err != nil && !errors.Is(err, unix.ENOENT) && !errors.Is(err, unix.ENOTDIR) {
			continue // cannot tell: treat as new, never lose the old entry
		}
		// Fresh aggregates of the moved entry: apply pending deltas first.
		if err := p.flushDeltas(); err != nil {
			return false, err
		}
		if err := p.batch.Move(p.loc.ID, cand.ID, c.Kind, dirID, c.Name, oldRel, rel); err != nil {
			return false, err
		}
		// Re-read the aggregates: deltas flushed above may have changed them.
		fresh, err := p.batch.ByID(cand.ID)
		if err != nil {
			return false, err
		}
		agg, files, dirs := fresh.AggSize, fresh.FileCount, fresh.DirCount
		p.addDelta(cand.ParentID, childDelta(c.Kind, cand.Size, agg, files, dirs, -1))
		p.addDelta(dirID, childDelta(c.Kind, cand.Size, agg, files, dirs, 1))
		p.ops++
		s := &p.cp.Summary
		s.RunWritten++
		s.Moved++
		p.change("moved", rel, oldRel, c.Kind)
		if c.Kind == store.KindDir {
			p.dirIDs[rel] = cand.ID
			p.parents[cand.ID] = dirID
			if cand.MtimeNs != c.MtimeNs {
				if err := p.batch.UpdateStat(cand.ID, 0, c.MtimeNs, c.Inode, "", false); err != nil {
					return false, err
				}
			}
		}
		return true, nil
	}
	return false, nil
}

// remove deletes an indexed entry (and its subtree) that is no longer on disk.
func (p *processor) remove(c candidate, rel string) error {
	if err := p.flushDeltas(); err != nil {
		return err
	}
	e, err := p.batch.ByID(c.id)
	if err != nil {
		return err
	}
	n, err := p.batch.Delete(p.loc.ID, c.id, c.kind, rel)
	if err != nil {
		return err
	}
	p.addDelta(c.parent, childDelta(c.kind, e.Size, e.AggSize, e.FileCount, e.DirCount, -1))
	p.ops += int(n)
	s := &p.cp.Summary
	s.RunWritten += n
	s.Deleted += n
	p.change("deleted", rel, "", c.kind)
	return nil
}

// deletions removes the entries the walk did not find, unless they moved meanwhile.
func (p *processor) deletions(ctx context.Context) error {
	if err := p.begin(ctx); err != nil {
		return err
	}
	for i, c := range p.candidates {
		par, name, err := p.batch.ParentOf(c.id)
		if errors.Is(err, store.ErrNotFound) || err == nil && (par != c.parent || name != c.name) {
			continue // already gone, or moved elsewhere during the walk
		}
		if err != nil {
			p.abort()
			return err
		}
		dir, err := p.batch.DirPath(c.parent)
		if err != nil {
			p.abort()
			return err
		}
		if err := p.remove(c, store.JoinRel(dir, c.name)); err != nil {
			p.abort()
			return err
		}
		p.run.Progress(PhaseDelete, int64(i+1), int64(len(p.candidates)))
		if p.ops >= p.opts.BatchSize {
			if err := p.commit(ctx); err != nil {
				return err
			}
			if err := p.begin(ctx); err != nil {
				return err
			}
		}
	}
	p.candidates = nil
	p.cp.Phase = PhaseContent
	return p.commit(ctx)
}
