package par

import (
	"context"
	"sync/atomic"
	"testing"
)

func TestEach(t *testing.T) {
	var sum atomic.Int64
	seen := make([]atomic.Int32, 1000)
	if err := Each(context.Background(), 1000, 7, func(w, i int) {
		if w < 0 || w >= 7 {
			t.Errorf("worker %d", w)
		}
		seen[i].Add(1)
		sum.Add(int64(i))
	}); err != nil {
		t.Fatal(err)
	}
	for i := range seen {
		if seen[i].Load() != 1 {
			t.Fatalf("index %d ran %d times", i, seen[i].Load())
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	var ran atomic.Int64
	err := Each(ctx, 1000, 2, func(w, i int) {
		if ran.Add(1) == 10 {
			cancel()
		}
	})
	if err == nil || ran.Load() >= 1000 {
		t.Fatalf("cancelled Each: err %v, ran %d", err, ran.Load())
	}
	if err := Each(context.Background(), 0, 4, func(int, int) { t.Error("called") }); err != nil {
		t.Fatal(err)
	}
}
