package events

import (
	"slices"
	"sync"
	"testing"
	"time"
)

// recorder collects emitted values.
type recorder struct {
	mu  sync.Mutex
	got []int
	ch  chan int
}

func newRecorder() *recorder { return &recorder{ch: make(chan int, 1000)} }

func (r *recorder) emit(v int) {
	r.mu.Lock()
	r.got = append(r.got, v)
	r.mu.Unlock()
	r.ch <- v
}

func (r *recorder) values() []int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.got)
}

func TestThrottle(t *testing.T) {
	for _, tc := range []struct {
		name  string
		every time.Duration
		run   func(th *Throttle[int])
		want  []int
	}{
		{"first-is-immediate", time.Hour, func(th *Throttle[int]) { th.Offer(1) }, []int{1}},
		{"rest-waits", time.Hour, func(th *Throttle[int]) {
			for i := 1; i <= 5; i++ {
				th.Offer(i)
			}
		}, []int{1}},
		{"flush-emits-the-last", time.Hour, func(th *Throttle[int]) {
			for i := 1; i <= 5; i++ {
				th.Offer(i)
			}
			th.Flush()
			th.Flush() // nothing left
		}, []int{1, 5}},
		{"flush-without-waiting-value", time.Hour, func(th *Throttle[int]) {
			th.Offer(1)
			th.Flush()
		}, []int{1}},
		{"after-flush-the-interval-restarts", time.Hour, func(th *Throttle[int]) {
			th.Offer(1)
			th.Offer(2)
			th.Flush()
			th.Offer(3)
			th.Flush()
		}, []int{1, 2, 3}},
		{"zero-interval-emits-all", 0, func(th *Throttle[int]) {
			for i := 1; i <= 5; i++ {
				th.Offer(i)
			}
			th.Flush()
		}, []int{1, 2, 3, 4, 5}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := newRecorder()
			th := NewThrottle(tc.every, r.emit)
			tc.run(th)
			if got := r.values(); !slices.Equal(got, tc.want) {
				t.Errorf("emitted %v, want %v", got, tc.want)
			}
			th.Flush() // stops the timer
		})
	}
}

// TestThrottleTimer checks that a waiting value is emitted by the timer, without Flush.
func TestThrottleTimer(t *testing.T) {
	r := newRecorder()
	th := NewThrottle(20*time.Millisecond, r.emit)
	start := time.Now()
	th.Offer(1)
	th.Offer(2)
	th.Offer(3)
	for _, want := range []int{1, 3} {
		select {
		case v := <-r.ch:
			if v != want {
				t.Fatalf("emitted %d, want %d (all: %v)", v, want, r.values())
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("%d never emitted (all: %v)", want, r.values())
		}
	}
	if d := time.Since(start); d < 20*time.Millisecond {
		t.Errorf("the waiting value came after %v, before the interval", d)
	}
	th.Flush()
	if got := r.values(); !slices.Equal(got, []int{1, 3}) {
		t.Errorf("emitted %v, want [1 3]", got)
	}
}

// TestThrottleConcurrent offers from several goroutines (run with -race): emissions never overlap
// and the last offered value is emitted by Flush.
func TestThrottleConcurrent(t *testing.T) {
	var mu sync.Mutex
	var inEmit, overlaps, count int
	th := NewThrottle(time.Millisecond, func(int) {
		mu.Lock()
		inEmit++
		if inEmit > 1 {
			overlaps++
		}
		count++
		mu.Unlock()
		time.Sleep(10 * time.Microsecond)
		mu.Lock()
		inEmit--
		mu.Unlock()
	})
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for i := range 2000 {
				th.Offer(i)
			}
		})
	}
	wg.Wait()
	th.Flush()
	mu.Lock()
	defer mu.Unlock()
	if overlaps > 0 {
		t.Errorf("%d overlapping emissions", overlaps)
	}
	if count == 0 || count > 8000 {
		t.Errorf("%d emissions", count)
	}
	t.Logf("%d emissions for 8000 offers", count)
}

// TestThrottleToBus is the jobs pattern: progress through a Throttle to a coalescing subscriber.
func TestThrottleToBus(t *testing.T) {
	b := NewBus()
	s := b.Subscribe(SubscribeOptions{Overflow: Coalesce, CoalesceKey: jobKey})
	th := NewThrottle(time.Hour, func(p progress) { b.Publish(p) })
	for i := range 1000 {
		th.Offer(progress{"a", i})
	}
	th.Flush()
	// 0 was emitted at once, 999 by Flush; the subscriber, not reading yet, keeps the newest.
	if got := seqs(rest(t, b, s.C())); !slices.Equal(got, []int{999}) || s.Coalesced() != 1 {
		t.Errorf("received %v (coalesced %d), want [999] (1)", got, s.Coalesced())
	}
}
