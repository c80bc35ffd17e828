package pipeline_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/cairnfs/cairn/core/index"
	"github.com/cairnfs/cairn/core/jobs"
	"github.com/cairnfs/cairn/core/library"
	"github.com/cairnfs/cairn/core/pipeline"
	"github.com/cairnfs/cairn/core/store"
)

// indexed is a real library (real SQLite) with one location over n small files, content-indexed.
func indexed(t *testing.T, n int) (*library.Library, *store.Location) {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	for i := range n {
		p := filepath.Join(dir, fmt.Sprintf("d%d", i%7), fmt.Sprintf("f%04d.txt", i))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(fmt.Sprintf("content %d\n", i)), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	h := library.Home{Dir: t.TempDir()}
	if err := h.Create(ctx, "t"); err != nil {
		t.Fatal(err)
	}
	lib, err := h.Open(ctx, "t", library.OpenOptions{Write: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { lib.Close() })
	loc, err := lib.Store.AddLocation(ctx, lib.DeviceID, dir, store.ModeContent, store.LocationConfig{NoIgnore: true})
	if err != nil {
		t.Fatal(err)
	}
	ix := &index.Indexer{Store: lib.Store, Jobs: lib.Jobs}
	j, _, err := ix.Job(ctx, loc)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ix.Run(ctx, loc, j, index.Options{}); err != nil {
		t.Fatal(err)
	}
	return lib, loc
}

func jobRow(t *testing.T, lib *library.Library, id int64) (*jobs.Job, pipeline.Checkpoint) {
	t.Helper()
	j, err := lib.Jobs.Get(context.Background(), strconv.FormatInt(id, 10))
	if err != nil {
		t.Fatal(err)
	}
	var cp pipeline.Checkpoint
	if err := json.Unmarshal(j.Checkpoint, &cp); err != nil {
		t.Fatal(err)
	}
	return j, cp
}

// TestInterruptedRunAgreesWithJob: a pipeline run whose context is cancelled (Ctrl-C) from the
// job's progress hook as its third batch is about to commit returns the counts the job row and
// the ledger hold; the job row's total is the number of contents, never 0; a resumed run does
// the rest and ends at done == total.
func TestInterruptedRunAgreesWithJob(t *testing.T) {
	lib, loc := indexed(t, 1000)
	ctx := context.Background()
	var contents int64
	if err := lib.Store.SQL().QueryRow(`SELECT count(*) FROM content_identities`).Scan(&contents); err != nil {
		t.Fatal(err)
	}
	steps := []pipeline.Step{{Stage: pipeline.Integrity{}}}
	job, err := lib.Jobs.Create(ctx, "pipeline", "test")
	if err != nil {
		t.Fatal(err)
	}
	lib.Jobs.ProgressEvery = 0 // every progress call reaches the hook, synchronously
	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	var firstTotal int64 = -1
	var item string
	lib.Jobs.OnProgress = func(p jobs.Progress) {
		if p.Item != "" && item == "" {
			item = p.Item
		}
		if p.Phase == "stage:stage.integrity" && firstTotal < 0 {
			firstTotal = p.Total
		}
		if p.Phase == "stage:stage.integrity" && p.Done >= 300 {
			cancel()
		}
	}
	var ret pipeline.Checkpoint
	state, err := lib.Jobs.Execute(runCtx, job, func(ctx context.Context, run *jobs.Run) error {
		r := &pipeline.Runner{Store: lib.Store, Location: loc, Pipeline: "p", Steps: steps, Run: run, BatchSize: 100}
		var err error
		ret, err = r.Execute(ctx)
		return err
	})
	if err != nil || state != jobs.Paused {
		t.Fatalf("interrupted run: %s, %v", state, err)
	}
	row, saved := jobRow(t, lib, job.ID)
	var ledger int64
	if err := lib.Store.SQL().QueryRow(`SELECT count(*) FROM stage_ledger WHERE stage = 'stage.integrity'`).Scan(&ledger); err != nil {
		t.Fatal(err)
	}
	t.Logf("returned %d done (%d this run); job row %d/%d, checkpoint %d; ledger %d", ret.Steps[0].Done, ret.Steps[0].RunDone,
		row.Done, row.Total, saved.Steps[0].Done, ledger)
	if ledger == 0 || ledger >= contents {
		t.Fatalf("ledger has %d of %d contents: not interrupted mid-run", ledger, contents)
	}
	if ret.Steps[0].Handled() != ledger || ret.Steps[0].RunDone != ledger || saved.Steps[0].Handled() != ledger || row.Done != ledger {
		t.Errorf("after Ctrl-C: returned %+v, job row done %d, checkpoint %+v; the ledger holds %d", ret.Steps[0], row.Done, saved.Steps[0], ledger)
	}
	if !strings.HasPrefix(item, loc.Path+"/") {
		t.Errorf("the run never said which file the stage was on (item %q)", item)
	}
	if firstTotal != contents || row.Total != contents {
		t.Errorf("progress total %d at the start, %d in the job row; want %d contents", firstTotal, row.Total, contents)
	}

	lib.Jobs.OnProgress = nil
	state, err = lib.Jobs.Execute(ctx, row, func(ctx context.Context, run *jobs.Run) error {
		r := &pipeline.Runner{Store: lib.Store, Location: loc, Pipeline: "p", Steps: steps, Run: run, BatchSize: 100}
		var err error
		ret, err = r.Execute(ctx)
		return err
	})
	if err != nil || state != jobs.Completed {
		t.Fatalf("resumed run: %s, %v", state, err)
	}
	row, _ = jobRow(t, lib, job.ID)
	if ret.Steps[0].Done != contents || ret.Steps[0].RunDone != contents-ledger || row.Done != contents || row.Total != contents {
		t.Errorf("resumed: %+v, job row %d/%d; want %d done (%d this run)", ret.Steps[0], row.Done, row.Total, contents, contents-ledger)
	}
}
