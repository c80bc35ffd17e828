package index_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/cairnfs/cairn/core/index"
	"github.com/cairnfs/cairn/core/jobs"
	"github.com/cairnfs/cairn/core/store"
)

// TestInterruptedSummaryAgreesWithJob is Ctrl-C during the content phase, made deterministic:
// the context is cancelled from the job's own progress hook when the second batch of 1,000
// files is about to be written. The summary the run returns (what `cairn index` prints), the
// job row (what `cairn jobs list` prints) and the index itself must then tell the same counts.
func TestInterruptedSummaryAgreesWithJob(t *testing.T) {
	dir := t.TempDir()
	const files = 3500
	for i := range files {
		p := filepath.Join(dir, fmt.Sprintf("d%02d", i%20), fmt.Sprintf("f%04d.txt", i))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(fmt.Sprintf("file %d\n", i)), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	fx := newFixture(t, dir, store.ModeContent)
	fx.ix.Jobs.ProgressEvery = 0 // every progress call reaches the hook, synchronously
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	fx.ix.Jobs.OnProgress = func(p jobs.Progress) {
		if p.Phase == index.PhaseContent && p.Done >= 2000 {
			cancel()
		}
	}
	j, _, err := fx.ix.Job(ctx, fx.loc)
	if err != nil {
		t.Fatal(err)
	}
	sum, err := fx.ix.Run(ctx, fx.loc, j, index.Options{})
	if err != nil {
		t.Fatalf("interrupted run: %v", err)
	}
	row, err := fx.ix.Jobs.Get(context.Background(), strconv.FormatInt(j.ID, 10))
	if err != nil {
		t.Fatal(err)
	}
	var identified int64
	if err := fx.lib.Store.SQL().QueryRow(`SELECT count(*) FROM entries WHERE content_id IS NOT NULL`).Scan(&identified); err != nil {
		t.Fatal(err)
	}
	t.Logf("summary: %s, %d identified (%d in this run); job row: %s, phase %s, %d/%d; index: %d identified",
		sum.State, sum.Hashed, sum.RunHashed, row.State, row.Phase, row.Done, row.Total, identified)
	if sum.State != string(jobs.Paused) || row.State != jobs.Paused {
		t.Fatalf("states: summary %s, job %s; want paused", sum.State, row.State)
	}
	if identified == 0 || identified >= files {
		t.Fatalf("%d of %d files identified: the run was not interrupted mid-phase", identified, files)
	}
	if sum.Hashed != identified || sum.RunHashed != identified {
		t.Errorf("the summary says %d identified (%d in this run); the index holds %d", sum.Hashed, sum.RunHashed, identified)
	}
	if row.Phase != index.PhaseContent || row.Done != identified || row.Total != files {
		t.Errorf("the job row says phase %s %d/%d; the index holds %d of %d", row.Phase, row.Done, row.Total, identified, files)
	}

	// Resumed, the job finishes the rest and its summary covers every file.
	fx.ix.Jobs.OnProgress = nil
	sum = fx.index(t, index.Options{})
	if sum.State != string(jobs.Completed) || sum.Hashed != files || sum.RunHashed != files-identified {
		t.Errorf("resumed: %s, %d identified (%d in this run); want %d (%d)", sum.State, sum.Hashed, sum.RunHashed, files, files-identified)
	}
}
