package pipeline

import (
	"context"
	"errors"
	"fmt"
	"testing"
)

// hangingStage stands for a stage whose call runs past its deadline whenever its batch holds
// the bomb (the host stops it and reports ErrStageDeadline) and crashes whenever it holds the
// crasher; it counts the deadlines it spent.
type hangingStage struct {
	bomb, crasher string
	deadlines     int
	calls         int
}

func (s *hangingStage) ID() string   { return "stage.hanging" }
func (s *hangingStage) Version() int { return 1 }
func (s *hangingStage) Process(ctx context.Context, items []Item) ([]Outcome, error) {
	s.calls++
	for _, it := range items {
		switch it.Name {
		case s.bomb:
			s.deadlines++
			return nil, fmt.Errorf("%w: calling stage.hanging: deadline exceeded after 2m0s", ErrStageDeadline)
		case s.crasher:
			return nil, errors.New("calling stage.hanging: wasm error: unreachable")
		}
	}
	return make([]Outcome, len(items)), nil
}

func batchOf(n int) []Item {
	items := make([]Item, n)
	for i := range items {
		items[i] = Item{ContentID: int64(i + 1), Name: fmt.Sprintf("f%03d", i)}
	}
	return items
}

// TestHostileBisectionDeadlines: a file that hangs a stage until its deadline (a 2 MB DOCX
// bomb) costs the batch's deadline and exactly one more for the file alone, whatever the batch
// size; halving spent one per level (four for one file, 8 minutes). Other items still get their
// outcomes; a crash (no deadline) is still isolated by halving.
func TestHostileBisectionDeadlines(t *testing.T) {
	for _, n := range []int{2, 4, 16, 256} {
		t.Run(fmt.Sprintf("bomb-in-%d", n), func(t *testing.T) {
			s := &hangingStage{bomb: fmt.Sprintf("f%03d", n/2)}
			outs, err := processIsolating(context.Background(), s, batchOf(n))
			if err != nil {
				t.Fatal(err)
			}
			if s.deadlines != 2 {
				t.Errorf("a bomb in a batch of %d spent %d deadlines, want 2", n, s.deadlines)
			}
			for i, o := range outs {
				if failed := o.Err != nil; failed != (i == n/2) || (failed && !errors.Is(o.Err, ErrStageDeadline)) {
					t.Errorf("item %d: %v", i, o.Err)
				}
			}
		})
	}
	t.Run("crash-is-halved", func(t *testing.T) {
		s := &hangingStage{crasher: "f005"}
		outs, err := processIsolating(context.Background(), s, batchOf(16))
		if err != nil {
			t.Fatal(err)
		}
		if s.calls > 1+2*4 { // halving: at most two calls per level
			t.Errorf("a crash in a batch of 16 took %d calls", s.calls)
		}
		for i, o := range outs {
			if (o.Err != nil) != (i == 5) {
				t.Errorf("item %d: %v", i, o.Err)
			}
		}
	})
}
