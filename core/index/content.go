package index

import (
	"context"
	"errors"
	"fmt"
	"os"
	"runtime"

	"golang.org/x/sys/unix"

	"github.com/cairnfs/cairn/core/cas"
	"github.com/cairnfs/cairn/core/pipeline"
	"github.com/cairnfs/cairn/core/store"
	"github.com/cairnfs/cairn/internal/par"
)

const contentBatch = 1000

type hashJob struct {
	f     store.PendingFile
	path  string
	casID string
	err   error
}

// dirCache resolves directory ids to relative paths; it is reset per batch (files of a batch are
// inserted directory by directory, so a batch touches few directories).
type dirCache map[int64]string

func (d dirCache) rel(ctx context.Context, st *store.Store, dirID int64, name string) (string, error) {
	dp, ok := d[dirID]
	if !ok {
		var err error
		if dp, err = st.DirPath(ctx, dirID); err != nil {
			return "", err
		}
		d[dirID] = dp
	}
	return store.JoinRel(dp, name), nil
}

// hashedBatch is one batch of files with their cas_ids (or errors), ready to be written.
type hashedBatch struct {
	jobs []hashJob
	last int64 // id of the batch's last file: the checkpoint cursor once it is committed
}

// content computes content identities for files without one, batch by batch in id order. Hashing
// (parallel, I/O-bound) runs one batch ahead of the writer (serial, SQLite-bound), so the two
// overlap; the checkpoint cursor only moves when a batch commits.
func (p *processor) content(ctx context.Context) error {
	total, err := p.st.CountPendingContent(ctx, p.loc.ID, p.cp.ContentCursor)
	if err != nil {
		return err
	}
	workers := p.opts.HashWorkers
	if workers <= 0 {
		workers = max(4, 4*runtime.GOMAXPROCS(0))
	}
	hctx, cancel := context.WithCancel(ctx)
	defer cancel()
	batches := make(chan hashedBatch, 1)
	prodErr := make(chan error, 1)
	go func() {
		defer close(batches)
		prodErr <- p.hashBatches(hctx, workers, batches)
	}()
	var done int64
	for hb := range batches {
		// Progress first: the checkpoint saved with the batch carries it, so the job row counts
		// exactly the committed batches.
		p.run.Progress(PhaseContent, done+int64(len(hb.jobs)), max(total, done+int64(len(hb.jobs))))
		if err := p.writeHashes(ctx, hb); err != nil {
			cancel()
			for range batches { // let the producer finish
			}
			return err
		}
		done += int64(len(hb.jobs))
		if err := p.run.Check(ctx); err != nil {
			cancel()
			for range batches {
			}
			return err
		}
	}
	if err := <-prodErr; err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	p.cp.Phase = PhaseStages
	return nil
}

// hashBatches reads pending files after the checkpoint cursor and hashes them, a batch at a time.
func (p *processor) hashBatches(ctx context.Context, workers int, out chan<- hashedBatch) error {
	samplers := make([]*cas.Sampler, workers) // one per hashing goroutine
	for i := range samplers {
		samplers[i] = cas.NewSampler()
	}
	cursor := p.cp.ContentCursor
	for {
		files, err := p.st.PendingContent(ctx, p.loc.ID, cursor, contentBatch)
		if err != nil {
			return err
		}
		if len(files) == 0 {
			return nil
		}
		jobs := make([]hashJob, len(files))
		dirs := dirCache{}
		for i, f := range files {
			rel, err := dirs.rel(ctx, p.st, f.ParentID, f.Name)
			if err != nil {
				return err
			}
			jobs[i] = hashJob{f: f, path: p.loc.Abs(rel)}
		}
		err = par.Each(ctx, len(jobs), workers, func(w, i int) {
			jobs[i].casID, jobs[i].err = identify(samplers[w], &jobs[i].f, jobs[i].path)
		})
		if err != nil {
			return err // nothing of this batch was written: it is redone on resume
		}
		cursor = files[len(files)-1].ID
		select {
		case out <- hashedBatch{jobs: jobs, last: cursor}:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// writeHashes commits one hashed batch together with the checkpoint that moves past it.
func (p *processor) writeHashes(ctx context.Context, hb hashedBatch) error {
	s := &p.cp.Summary
	b, err := p.st.Begin(ctx)
	if err != nil {
		return err
	}
	for _, j := range hb.jobs {
		if j.err != nil {
			if err := b.RecordSkip(p.jobID, j.path, "content identity: "+j.err.Error()); err != nil {
				b.Rollback()
				return err
			}
			s.Skipped++
			continue
		}
		cid, err := b.UpsertContent(j.casID, cas.ContentUUID(j.casID).String(), cas.AlgoSampled, j.f.Size)
		if err == nil {
			err = b.SetContent(j.f.ID, cid)
		}
		if err != nil {
			b.Rollback()
			return err
		}
		s.Hashed++
		s.RunHashed++
		s.HashedBytes += min(j.f.Size, sampledBytes(j.f.Size))
	}
	p.cp.ContentCursor = hb.last
	if err := p.run.Save(ctx, b.Tx(), p.cp); err != nil {
		b.Rollback()
		return err
	}
	return b.Commit()
}

// sampledBytes is how many bytes the sampled hash reads from a file of this size.
func sampledBytes(size int64) int64 {
	if size <= 102400 {
		return size
	}
	return 8192*2 + 4*10240
}

var errChanged = errors.New("changed since the walk (picked up by the next index)")

// identify hashes one file, refusing a file that changed since the walk saw it.
func identify(sm *cas.Sampler, f *store.PendingFile, path string) (string, error) {
	fh, err := os.OpenFile(path, os.O_RDONLY|unix.O_NOFOLLOW|unix.O_NOATIME, 0)
	if errors.Is(err, unix.EPERM) { // O_NOATIME needs ownership
		fh, err = os.OpenFile(path, os.O_RDONLY|unix.O_NOFOLLOW, 0)
	}
	if err != nil {
		return "", err
	}
	defer fh.Close()
	var st unix.Stat_t
	if err := unix.Fstat(int(fh.Fd()), &st); err != nil {
		return "", fmt.Errorf("stat %s: %w", path, err)
	}
	if st.Size != f.Size || st.Mtim.Sec*1e9+st.Mtim.Nsec != f.MtimeNs {
		return "", errChanged
	}
	return sm.Sum(fh, f.Size)
}

// stages runs every configured stage over the location's contents whose ledger lacks it.
func (p *processor) stages(ctx context.Context) error {
	s := &p.cp.Summary
	if p.cp.StageCursors == nil {
		p.cp.StageCursors = map[string]int64{}
	}
	if s.Stages == nil {
		s.Stages = map[string]int64{}
	}
	for _, stage := range p.opts.Stages {
		id, ver := stage.ID(), stage.Version()
		left, err := p.st.CountPendingStep(ctx, p.loc.ID, id, ver, false, store.TypeFilter{}, p.cp.StageCursors[id])
		if err != nil {
			return err
		}
		total := s.Stages[id] + left
		for {
			if err := p.run.Check(ctx); err != nil {
				return err
			}
			items, err := p.st.PendingStage(ctx, p.loc.ID, id, ver, p.cp.StageCursors[id], 256)
			if err != nil {
				return err
			}
			if len(items) == 0 {
				break
			}
			in := make([]pipeline.Item, len(items))
			dirs := dirCache{}
			for i, it := range items {
				rel, err := dirs.rel(ctx, p.st, it.ParentID, it.Name)
				if err != nil {
					return err
				}
				in[i] = pipeline.Item{ContentID: it.ContentID, ContentUUID: it.UUID, CasID: it.CasID, Size: it.Size, Path: p.loc.Abs(rel)}
			}
			outs, err := stage.Process(ctx, in)
			if err != nil {
				return fmt.Errorf("stage %s: %w", id, err)
			}
			if len(outs) != len(in) {
				return fmt.Errorf("stage %s returned %d outcomes for %d items", id, len(outs), len(in))
			}
			b, err := p.st.Begin(ctx)
			if err != nil {
				return err
			}
			for i, o := range outs {
				status, msg := pipeline.StatusDone, ""
				if o.Err == nil && o.Apply != nil {
					o.Err = o.Apply(ctx, b.Tx())
				}
				if o.Err != nil {
					status, msg = pipeline.StatusFailed, o.Err.Error()
				}
				if err := b.RecordStage(in[i].ContentID, id, ver, status, msg); err != nil {
					b.Rollback()
					return err
				}
				s.Stages[id]++
			}
			p.cp.StageCursors[id] = items[len(items)-1].ContentID
			p.run.Progress(PhaseStages+":"+id, s.Stages[id], max(total, s.Stages[id]))
			if err := p.run.Save(ctx, b.Tx(), p.cp); err != nil {
				b.Rollback()
				return err
			}
			if err := b.Commit(); err != nil {
				return err
			}
		}
	}
	p.cp.Phase = PhaseDone
	return nil
}

// finish records the final checkpoint.
func (p *processor) finish(ctx context.Context) error {
	p.cp.Phase = PhaseDone
	b, err := p.st.Begin(ctx)
	if err != nil {
		return err
	}
	if err := p.run.Save(ctx, b.Tx(), p.cp); err != nil {
		b.Rollback()
		return err
	}
	return b.Commit()
}
