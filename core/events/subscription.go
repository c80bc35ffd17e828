package events

import (
	"sync"
	"sync/atomic"
)

// Subscription is one subscriber's view of a Bus: a bounded queue, filled by publishers under the
// overflow policy, and a goroutine that hands the queue's head to the subscriber's channel. The
// head stays queued until it is received, so a slow subscriber's next event is always subject to
// coalescing and, under DropOldest, to replacement by newer ones.
//
// Every event accepted by the subscription's topics and filter is either received, counted by
// Dropped or Coalesced, or discarded by Close.
type Subscription struct {
	bus    *Bus
	opts   SubscribeOptions
	topics []string
	c      <-chan Event

	mu        sync.Mutex
	queue     []queued // ring buffer of len opts.Buffer
	head, n   int
	seq       uint64         // sequence number of the last queued event
	offering  uint64         // sequence number of the event the pump offers, 0 if none
	retracted *atomic.Uint64 // the counter that took the offered event out of the queue, if any
	closed    bool           // Close was called: nothing more is queued or delivered
	draining  bool           // the bus closed: deliver what is queued, then close the channel

	dropped, coalesced atomic.Uint64

	notify    chan struct{} // capacity 1: the queue's head changed or the bus closed
	done      chan struct{} // closed by Close
	exited    chan struct{} // closed when the pump has returned and closed the channel
	closeOnce sync.Once
}

type queued struct {
	e   Event
	key string
	seq uint64
}

// C returns the channel of a subscription made by Subscribe (nil for SubscribeTyped, which returns
// its own channel). It is closed after Close, or after Bus.Close once the buffer is delivered.
func (s *Subscription) C() <-chan Event { return s.c }

// Dropped returns how many events this subscription lost to a full buffer.
func (s *Subscription) Dropped() uint64 { return s.dropped.Load() }

// Coalesced returns how many events were replaced by a newer one with the same CoalesceKey before
// the subscriber received them.
func (s *Subscription) Coalesced() uint64 { return s.coalesced.Load() }

// Close takes the subscription off the bus, discards its buffered events and closes its channel.
// It returns once the channel is closed, whether or not anybody is receiving, and may be called
// more than once and from any goroutine.
func (s *Subscription) Close() {
	s.closeOnce.Do(func() {
		s.bus.remove(s)
		s.mu.Lock()
		s.closed = true
		clear(s.queue)
		s.n = 0
		s.mu.Unlock()
		close(s.done)
	})
	<-s.exited
}

// offer queues e if the subscription wants it, applying the overflow policy.
func (s *Subscription) offer(e Event, topic string) {
	if !hasPrefix(topic, s.topics) || (s.opts.Filter != nil && !s.opts.Filter(e)) {
		return
	}
	var key string
	if s.opts.Overflow == Coalesce {
		key = s.opts.CoalesceKey(e)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed || s.draining {
		return
	}
	// The pump needs waking when the queue stops being empty, or when the event it offers is
	// taken back (it then offers the new head).
	wake := s.n == 0
	if key != "" {
		for i := s.n - 1; i >= 0; i-- { // newest first: a repeated key is usually near the end
			if s.at(i).key == key {
				wake = s.removeAt(i, &s.coalesced) || wake
				break
			}
		}
	}
	if s.n == len(s.queue) {
		if s.opts.Overflow == DropNewest {
			s.dropped.Add(1)
			return
		}
		wake = s.removeAt(0, &s.dropped) || wake
	}
	s.seq++
	s.queue[(s.head+s.n)%len(s.queue)] = queued{e: e, key: key, seq: s.seq}
	s.n++
	if wake {
		s.wake()
	}
}

func (s *Subscription) at(i int) *queued { return &s.queue[(s.head+i)%len(s.queue)] }

// removeAt removes the i-th queued event, counts it with counter, and reports whether it was the
// event the pump offers.
func (s *Subscription) removeAt(i int, counter *atomic.Uint64) (offered bool) {
	counter.Add(1)
	if offered = s.at(i).seq == s.offering; offered {
		s.retracted = counter
	}
	if i == 0 { // O(1): the oldest, as DropOldest removes
		s.queue[s.head] = queued{}
		s.head = (s.head + 1) % len(s.queue)
		s.n--
		return offered
	}
	for ; i < s.n-1; i++ { // O(n-i): coalescing mostly hits recent events
		*s.at(i) = *s.at(i + 1)
	}
	*s.at(s.n - 1) = queued{}
	s.n--
	return offered
}

func (s *Subscription) wake() {
	select {
	case s.notify <- struct{}{}:
	default:
	}
}

// drain makes the pump deliver what is queued and then close the channel (Bus.Close).
func (s *Subscription) drain() {
	s.mu.Lock()
	s.draining = true
	s.mu.Unlock()
	s.wake()
}

// pump offers the queue's head to out until Close, or until the queue is empty after Bus.Close.
func pump[T Event](s *Subscription, out chan T) {
	defer close(s.exited)
	defer close(out)
	for {
		// A wake-up from before the peek below is stale: consume it, so that the select offers
		// the head as the queue now has it.
		select {
		case <-s.notify:
		default:
		}
		s.mu.Lock()
		if s.closed {
			s.mu.Unlock()
			return
		}
		if s.n == 0 {
			draining := s.draining
			s.mu.Unlock()
			if draining {
				return
			}
			select {
			case <-s.notify:
				continue
			case <-s.done:
				return
			}
		}
		head := s.queue[s.head]
		s.offering, s.retracted = head.seq, nil
		s.mu.Unlock()

		ev, _ := head.e.(T) // the filter of SubscribeTyped admits only T
		select {
		case out <- ev:
			s.mu.Lock()
			if s.n > 0 && s.queue[s.head].seq == head.seq {
				s.queue[s.head] = queued{}
				s.head = (s.head + 1) % len(s.queue)
				s.n--
			} else if s.retracted != nil {
				// A publisher dropped or coalesced the head while it was being received: it was
				// delivered after all.
				s.retracted.Add(^uint64(0))
			}
			s.offering, s.retracted = 0, nil
			s.mu.Unlock()
		case <-s.notify:
		case <-s.done:
			return
		}
	}
}
