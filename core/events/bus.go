package events

import (
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
)

// Event is anything published on a Bus. Concrete events are structs defined by their producers;
// Topic names their kind with dot-separated words, most general first ("job.progress").
type Event interface {
	Topic() string
}

// Policy says what a subscription does with an event that arrives while its buffer is full.
type Policy uint8

const (
	// DropNewest discards the arriving event (the default).
	DropNewest Policy = iota
	// DropOldest discards the oldest buffered event to make room.
	DropOldest
	// Coalesce replaces the buffered event whose CoalesceKey equals the arriving event's, even when
	// the buffer is not full: the replaced event is counted by Coalesced, and the new one takes the
	// end of the queue, so delivery stays in publication order. An arriving event whose key is not
	// buffered (or is "") into a full buffer discards the oldest buffered event, as DropOldest.
	Coalesce
)

func (p Policy) String() string {
	switch p {
	case DropNewest:
		return "drop-newest"
	case DropOldest:
		return "drop-oldest"
	case Coalesce:
		return "coalesce"
	}
	return "policy(" + strconv.Itoa(int(p)) + ")"
}

// DefaultBuffer is the buffer of a subscription whose options leave it at 0.
const DefaultBuffer = 64

// SubscribeOptions select and buffer the events of a subscription. The zero value receives every
// event, buffers DefaultBuffer of them and drops the newest on overflow.
type SubscribeOptions struct {
	// Topics are topic prefixes ("job." receives "job.progress"); none means every topic.
	Topics []string
	// Filter, when set, receives an event only if it returns true. It runs on the publisher's
	// goroutine, possibly concurrently: it must be fast and must not block.
	Filter func(Event) bool
	// Buffer is how many events may wait for the subscriber (DefaultBuffer when 0).
	Buffer int
	// Overflow is the policy for a full buffer.
	Overflow Policy
	// CoalesceKey names what an event updates (a job id for progress events); required by
	// Coalesce. Like Filter it runs on the publisher's goroutine.
	CoalesceKey func(Event) string
}

// Bus delivers published events to subscriptions. Publishing never blocks: every subscription has
// a bounded buffer and an overflow policy, and counts what it loses. A Bus is safe for concurrent
// use; its zero value is not usable, use NewBus.
type Bus struct {
	mu     sync.Mutex                      // serializes changes to subs
	subs   atomic.Pointer[[]*Subscription] // copy on write; nil when there are none or the bus is closed
	closed bool
}

// NewBus returns an empty bus.
func NewBus() *Bus { return &Bus{} }

// Publish offers e to every subscription whose topics and filter accept it, and never blocks. With
// no subscription it costs one atomic load; otherwise, per subscription, a prefix match, the
// filter, and a short critical section. Delivery order is publication order for events published
// from one goroutine. Publishing on a closed bus, or a nil event, does nothing.
func (b *Bus) Publish(e Event) {
	subs := b.subs.Load()
	if subs == nil || e == nil {
		return
	}
	topic := e.Topic()
	for _, s := range *subs {
		s.offer(e, topic)
	}
}

// Subscribe adds a subscription whose events arrive on its C channel. It costs a goroutine, which
// lives until Close (or until Bus.Close and the buffer's delivery), and a buffer of opts.Buffer
// events. On a closed bus it returns a subscription whose channel is already closed. It panics if
// opts.Overflow is unknown, or is Coalesce without a CoalesceKey.
func (b *Bus) Subscribe(opts SubscribeOptions) *Subscription {
	ch := make(chan Event)
	s := subscribe(b, opts, ch)
	s.c = ch
	return s
}

// SubscribeTyped subscribes to the events of type T that filter (if not nil) accepts, in addition
// to opts' topics and filter, and returns them on a channel of T. The Subscription's C is nil: use
// the returned channel, and the Subscription for Dropped, Coalesced and Close.
func SubscribeTyped[T Event](b *Bus, filter func(T) bool, opts SubscribeOptions) (<-chan T, *Subscription) {
	inner := opts.Filter
	opts.Filter = func(e Event) bool {
		t, ok := e.(T)
		return ok && (filter == nil || filter(t)) && (inner == nil || inner(e))
	}
	ch := make(chan T)
	return ch, subscribe(b, opts, ch)
}

func subscribe[T Event](b *Bus, opts SubscribeOptions, ch chan T) *Subscription {
	if opts.Overflow == Coalesce && opts.CoalesceKey == nil {
		panic("events: Subscribe with Coalesce needs a CoalesceKey")
	}
	if opts.Overflow > Coalesce {
		panic("events: Subscribe with unknown overflow " + opts.Overflow.String())
	}
	if opts.Buffer <= 0 {
		opts.Buffer = DefaultBuffer
	}
	s := &Subscription{
		bus:    b,
		opts:   opts,
		topics: append([]string(nil), opts.Topics...),
		queue:  make([]queued, opts.Buffer),
		notify: make(chan struct{}, 1),
		done:   make(chan struct{}),
		exited: make(chan struct{}),
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		s.closed = true
		s.closeOnce.Do(func() { close(s.done) })
		close(ch)
		close(s.exited)
		return s
	}
	go pump(s, ch)
	var next []*Subscription
	if cur := b.subs.Load(); cur != nil {
		next = append(next, *cur...)
	}
	next = append(next, s)
	b.subs.Store(&next)
	return s
}

// remove takes s off the bus.
func (b *Bus) remove(s *Subscription) {
	b.mu.Lock()
	defer b.mu.Unlock()
	cur := b.subs.Load()
	if cur == nil {
		return
	}
	next := make([]*Subscription, 0, len(*cur))
	for _, o := range *cur {
		if o != s {
			next = append(next, o)
		}
	}
	if len(next) == 0 {
		b.subs.Store(nil)
	} else {
		b.subs.Store(&next)
	}
}

// Close stops the bus: later events are not delivered, and later subscriptions are born closed.
// Every subscription still delivers what it has buffered, then closes its channel (a subscriber
// ranging over it ends after the last event); Subscription.Close discards the rest instead, and
// ends the goroutine of a subscription that nobody reads. Close never blocks on subscribers and
// may be called more than once.
func (b *Bus) Close() {
	b.mu.Lock()
	b.closed = true
	cur := b.subs.Swap(nil)
	b.mu.Unlock()
	if cur != nil {
		for _, s := range *cur {
			s.drain()
		}
	}
}

func hasPrefix(topic string, prefixes []string) bool {
	if len(prefixes) == 0 {
		return true
	}
	for _, p := range prefixes {
		if strings.HasPrefix(topic, p) {
			return true
		}
	}
	return false
}
