// Package par runs loop bodies on a bounded number of goroutines.
package par

import (
	"context"
	"sync"
)

// Each calls fn(w, i) for every i in [0, n) on min(workers, n) goroutines; w identifies the
// goroutine (0..workers-1), so callers can keep per-goroutine state. When ctx ends it stops
// handing out indexes, waits for the calls in flight and returns ctx's error.
func Each(ctx context.Context, n, workers int, fn func(w, i int)) error {
	workers = max(1, min(workers, n))
	next := make(chan int)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				fn(w, i)
			}
		}()
	}
feed:
	for i := 0; i < n; i++ {
		select {
		case next <- i:
		case <-ctx.Done():
			break feed
		}
	}
	close(next)
	wg.Wait()
	return ctx.Err()
}
