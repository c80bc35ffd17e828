package jobs_test

import (
	"context"
	"errors"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cairnfs/cairn/core/jobs"
	"github.com/cairnfs/cairn/core/store"
)

func manager(t *testing.T) (*jobs.Manager, *store.Store) {
	t.Helper()
	st, err := store.Open(context.Background(), filepath.Join(t.TempDir(), "library.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	m := jobs.NewManager(st.SQL())
	m.PollEvery = 10 * time.Millisecond
	return m, st
}

type cp struct{ Next int }

// steps runs a job body that processes items 0..n-1 in batches of 10, saving its checkpoint in the
// same transaction as each batch's (fake) work row, and counting every item it processes.
func steps(st *store.Store, n int, processed *atomic.Int64, onBatch func(int)) jobs.Func {
	return func(ctx context.Context, r *jobs.Run) error {
		var c cp
		if _, err := r.Checkpoint(&c); err != nil {
			return err
		}
		for c.Next < n {
			if err := r.Check(ctx); err != nil {
				return err
			}
			b, err := st.Begin(ctx)
			if err != nil {
				return err
			}
			end := min(c.Next+10, n)
			processed.Add(int64(end - c.Next))
			c.Next = end
			r.Progress("work", int64(c.Next), int64(n))
			if err := r.Save(ctx, b.Tx(), c); err != nil {
				b.Rollback()
				return err
			}
			if err := b.Commit(); err != nil {
				return err
			}
			if onBatch != nil {
				onBatch(c.Next)
			}
		}
		return nil
	}
}

func TestRunToCompletion(t *testing.T) {
	m, st := manager(t)
	ctx := context.Background()
	var events atomic.Int64
	m.OnProgress = func(jobs.Progress) { events.Add(1) }
	j, err := m.Create(ctx, "test", "t")
	if err != nil {
		t.Fatal(err)
	}
	var n atomic.Int64
	state, err := m.Execute(ctx, j, steps(st, 100, &n, nil))
	if err != nil || state != jobs.Completed {
		t.Fatalf("Execute = %v, %v", state, err)
	}
	if n.Load() != 100 {
		t.Errorf("processed %d items, want 100", n.Load())
	}
	got, _ := m.Get(ctx, "1")
	if got.State != jobs.Completed || got.Done != 100 || got.FinishedAt == 0 {
		t.Errorf("job row after completion: %+v", got)
	}
	if events.Load() < 2 {
		t.Errorf("only %d progress events", events.Load())
	}
}

// TestResumeAfterInterrupt: a run stopped mid-way (ctx cancelled, as Ctrl-C does) leaves the job
// paused with its checkpoint; the next run continues from it without redoing a batch.
func TestResumeAfterInterrupt(t *testing.T) {
	m, st := manager(t)
	ctx, cancel := context.WithCancel(context.Background())
	j, _ := m.Create(ctx, "test", "t")
	var n atomic.Int64
	state, err := m.Execute(ctx, j, steps(st, 100, &n, func(done int) {
		if done == 40 {
			cancel()
		}
	}))
	if err != nil || state != jobs.Paused {
		t.Fatalf("interrupted Execute = %v, %v; want paused", state, err)
	}
	j2, err := m.Unfinished(context.Background(), "test", "t")
	if err != nil || j2 == nil || j2.ID != j.ID {
		t.Fatalf("Unfinished = %+v, %v", j2, err)
	}
	state, err = m.Execute(context.Background(), j2, steps(st, 100, &n, nil))
	if err != nil || state != jobs.Completed {
		t.Fatalf("resumed Execute = %v, %v", state, err)
	}
	if n.Load() != 100 {
		t.Errorf("processed %d items over both runs, want exactly 100 (no batch redone)", n.Load())
	}
}

// TestControlFromOutside: pause, resume and cancel through the control column, as another
// process does with `cairn jobs pause|resume|cancel`.
func TestControlFromOutside(t *testing.T) {
	m, st := manager(t)
	ctx := context.Background()
	j, _ := m.Create(ctx, "test", "t")
	var n atomic.Int64
	paused := make(chan struct{})
	release := make(chan struct{})
	done := make(chan jobs.State)
	go func() {
		s, _ := m.Execute(ctx, j, steps(st, 1000, &n, func(d int) {
			if d == 20 {
				close(paused)
				<-release
			}
			time.Sleep(time.Millisecond)
		}))
		done <- s
	}()
	<-paused
	if _, err := m.Control(ctx, "1", "pause"); err != nil {
		t.Fatal(err)
	}
	close(release)
	waitState(t, m, jobs.Paused)
	at := n.Load()
	time.Sleep(50 * time.Millisecond)
	if n.Load() != at {
		t.Fatalf("job kept working while paused (%d → %d)", at, n.Load())
	}
	if _, err := m.Control(ctx, "1", "resume"); err != nil {
		t.Fatal(err)
	}
	waitState(t, m, jobs.Running)
	if _, err := m.Control(ctx, "1", "cancel"); err != nil {
		t.Fatal(err)
	}
	if s := <-done; s != jobs.Cancelled {
		t.Fatalf("final state %s, want cancelled", s)
	}
	if _, err := m.Control(ctx, "1", "resume"); !errors.Is(err, jobs.ErrFinished) {
		t.Errorf("resume of a cancelled job: %v, want ErrFinished", err)
	}
}

func waitState(t *testing.T, m *jobs.Manager, s jobs.State) {
	t.Helper()
	for i := 0; i < 500; i++ {
		j, err := m.Get(context.Background(), "1")
		if err == nil && j.State == s {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("job never reached %s", s)
}

func TestFailureRecorded(t *testing.T) {
	m, _ := manager(t)
	ctx := context.Background()
	j, _ := m.Create(ctx, "test", "t")
	state, err := m.Execute(ctx, j, func(ctx context.Context, r *jobs.Run) error { return errors.New("disk on fire") })
	if state != jobs.Failed || err == nil {
		t.Fatalf("Execute = %v, %v", state, err)
	}
	got, _ := m.Get(ctx, j.UUID[:8])
	if got.Error != "disk on fire" {
		t.Errorf("error = %q", got.Error)
	}
}
