package events

import (
	"sync"
	"time"
)

// Throttle limits how often a producer emits values, such as progress events: at most one per
// interval, without losing the latest. Offer emits at once when the previous emission is at least
// an interval old; otherwise the value waits (replacing any value already waiting) and is emitted
// when the interval has passed, by a timer. Flush emits the waiting value now — call it when the
// work ends, so that the final state is never throttled away. A Throttle is safe for concurrent
// use; emit is called with the Throttle's lock held, one call at a time in offer order, so it must
// be quick and must not call back into the Throttle (Bus.Publish is fine).
type Throttle[T any] struct {
	every time.Duration
	emit  func(T)

	mu      sync.Mutex
	last    time.Time // of the last emission
	pending T
	waiting bool
	timer   *time.Timer
	gen     uint64 // invalidates a timer that fires after it was stopped
}

// NewThrottle returns a Throttle that calls emit at most once per interval every (0 emits every
// value).
func NewThrottle[T any](every time.Duration, emit func(T)) *Throttle[T] {
	return &Throttle[T]{every: every, emit: emit}
}

// Offer emits v now, or keeps it to emit when the interval since the last emission has passed.
func (t *Throttle[T]) Offer(v T) {
	t.mu.Lock()
	defer t.mu.Unlock()
	now := time.Now()
	if wait := t.every - now.Sub(t.last); wait > 0 {
		t.pending, t.waiting = v, true
		if t.timer == nil {
			gen := t.gen
			t.timer = time.AfterFunc(wait, func() { t.fire(gen) })
		}
		return
	}
	t.stopTimer()
	t.emitLocked(v, now)
}

// Flush emits the waiting value, if any, now.
func (t *Throttle[T]) Flush() {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.stopTimer()
	if t.waiting {
		t.emitLocked(t.pending, time.Now())
	}
}

func (t *Throttle[T]) fire(gen uint64) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if gen != t.gen {
		return // stopped after it fired
	}
	t.timer = nil
	if t.waiting {
		t.emitLocked(t.pending, time.Now())
	}
}

func (t *Throttle[T]) stopTimer() {
	if t.timer != nil {
		t.timer.Stop()
		t.timer = nil
		t.gen++
	}
}

func (t *Throttle[T]) emitLocked(v T, now time.Time) {
	var zero T
	t.pending, t.waiting = zero, false
	t.last = now
	t.emit(v)
}
