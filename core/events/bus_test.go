package events

import (
	"fmt"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// progress is a test event in the style of core/jobs' progress events.
type progress struct {
	Job  string
	Done int
}

func (progress) Topic() string { return "job.progress" }

// named is a test event with any topic.
type named struct {
	topic string
	n     int
}

func (n named) Topic() string { return n.topic }

func jobKey(e Event) string {
	if p, ok := e.(progress); ok {
		return p.Job
	}
	return ""
}

// receive reads n events from c, failing the test if they do not come within a generous delay.
func receive[T any](t *testing.T, c <-chan T, n int) []T {
	t.Helper()
	var got []T
	timeout := time.After(10 * time.Second)
	for len(got) < n {
		select {
		case e, ok := <-c:
			if !ok {
				t.Fatalf("channel closed after %d of %d events", len(got), n)
			}
			got = append(got, e)
		case <-timeout:
			t.Fatalf("received %d of %d events", len(got), n)
		}
	}
	return got
}

// rest closes the bus and returns every event still buffered for c.
func rest[T any](t *testing.T, b *Bus, c <-chan T) []T {
	t.Helper()
	b.Close()
	var got []T
	timeout := time.After(10 * time.Second)
	for {
		select {
		case e, ok := <-c:
			if !ok {
				return got
			}
			got = append(got, e)
		case <-timeout:
			t.Fatalf("channel not closed after Bus.Close (%d events received)", len(got))
		}
	}
}

func seqs(events []Event) []int {
	var out []int
	for _, e := range events {
		switch e := e.(type) {
		case named:
			out = append(out, e.n)
		case progress:
			out = append(out, e.Done)
		}
	}
	return out
}

func span(from, to int) []int {
	var out []int
	for i := from; i < to; i++ {
		out = append(out, i)
	}
	return out
}

// TestSlowSubscriber publishes 100,000 events to a subscriber that reads nothing: Publish must
// return every time (the test would hang otherwise), and what is lost is counted exactly.
func TestSlowSubscriber(t *testing.T) {
	const total, buffer = 100_000, 16
	for _, tc := range []struct {
		name          string
		opts          SubscribeOptions
		event         func(i int) Event
		want          []int // what the subscriber finally receives
		dropped, coal uint64
	}{
		{"drop-newest", SubscribeOptions{Buffer: buffer},
			func(i int) Event { return named{"x", i} }, span(0, buffer), total - buffer, 0},
		{"drop-oldest", SubscribeOptions{Buffer: buffer, Overflow: DropOldest},
			func(i int) Event { return named{"x", i} }, span(total-buffer, total), total - buffer, 0},
		{"coalesce/4-keys", SubscribeOptions{Buffer: buffer, Overflow: Coalesce, CoalesceKey: jobKey},
			func(i int) Event { return progress{strconv.Itoa(i % 4), i} }, span(total-4, total), 0, total - 4},
		{"coalesce/distinct-keys", SubscribeOptions{Buffer: buffer, Overflow: Coalesce, CoalesceKey: jobKey},
			func(i int) Event { return progress{strconv.Itoa(i), i} }, span(total-buffer, total), total - buffer, 0},
		{"coalesce/no-key", SubscribeOptions{Buffer: buffer, Overflow: Coalesce, CoalesceKey: jobKey},
			func(i int) Event { return named{"x", i} }, span(total-buffer, total), total - buffer, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := NewBus()
			s := b.Subscribe(tc.opts)
			for i := range total {
				b.Publish(tc.event(i))
			}
			if s.Dropped() != tc.dropped || s.Coalesced() != tc.coal {
				t.Errorf("dropped %d, coalesced %d; want %d, %d", s.Dropped(), s.Coalesced(), tc.dropped, tc.coal)
			}
			if got := seqs(rest(t, b, s.C())); !slices.Equal(got, tc.want) {
				t.Errorf("received %v, want %v", got, tc.want)
			}
		})
	}
}

func TestTopicsAndFilter(t *testing.T) {
	topics := []string{"job.progress", "job.done", "jobs.other", "index.dir", "sync.peer", ""}
	for _, tc := range []struct {
		name string
		opts SubscribeOptions
		want []string
	}{
		{"all", SubscribeOptions{}, topics},
		{"prefix", SubscribeOptions{Topics: []string{"job."}}, []string{"job.progress", "job.done"}},
		{"exact", SubscribeOptions{Topics: []string{"index.dir"}}, []string{"index.dir"}},
		{"two-prefixes", SubscribeOptions{Topics: []string{"index.", "sync."}}, []string{"index.dir", "sync.peer"}},
		{"bare-prefix", SubscribeOptions{Topics: []string{"job"}}, []string{"job.progress", "job.done", "jobs.other"}},
		{"no-match", SubscribeOptions{Topics: []string{"nothing"}}, nil},
		{"filter", SubscribeOptions{Filter: func(e Event) bool { return e.(named).n%2 == 0 }},
			[]string{"job.progress", "jobs.other", "sync.peer"}},
		{"prefix-and-filter", SubscribeOptions{Topics: []string{"job."}, Filter: func(e Event) bool { return e.(named).n > 0 }},
			[]string{"job.done"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := NewBus()
			s := b.Subscribe(tc.opts)
			for i, topic := range topics {
				b.Publish(named{topic, i})
			}
			b.Publish(nil) // ignored
			var got []string
			for _, e := range rest(t, b, s.C()) {
				got = append(got, e.Topic())
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("received %q, want %q", got, tc.want)
			}
		})
	}
}

func TestSubscribeTyped(t *testing.T) {
	b := NewBus()
	all, s1 := SubscribeTyped[progress](b, nil, SubscribeOptions{})
	jobA, s2 := SubscribeTyped(b, func(p progress) bool { return p.Job == "a" }, SubscribeOptions{})
	none, s3 := SubscribeTyped[progress](b, nil, SubscribeOptions{Topics: []string{"index."}})
	if s1.C() != nil {
		t.Error("C() of a typed subscription is not nil")
	}
	b.Publish(progress{"a", 1})
	b.Publish(named{"job.progress", 2}) // same topic, other type
	b.Publish(progress{"b", 3})
	b.Publish(progress{"a", 4})
	if got := rest(t, b, all); !slices.Equal(got, []progress{{"a", 1}, {"b", 3}, {"a", 4}}) {
		t.Errorf("typed: %v", got)
	}
	if got := rest(t, b, jobA); !slices.Equal(got, []progress{{"a", 1}, {"a", 4}}) {
		t.Errorf("typed with filter: %v", got)
	}
	if got := rest(t, b, none); len(got) != 0 {
		t.Errorf("typed with other topic: %v", got)
	}
	for _, s := range []*Subscription{s1, s2, s3} {
		s.Close()
	}
}

// TestCoalesce checks that coalescing keeps the newest event of every key, in publication order.
func TestCoalesce(t *testing.T) {
	b := NewBus()
	s := b.Subscribe(SubscribeOptions{Buffer: 8, Overflow: Coalesce, CoalesceKey: jobKey})
	for _, e := range []Event{
		progress{"a", 1}, progress{"b", 2}, progress{"a", 3}, named{"job.done", 4}, progress{"c", 5},
		progress{"a", 6}, progress{"b", 7}, named{"job.done", 8},
	} {
		b.Publish(e)
	}
	// b2 and c5 were queued first, but a6 and b7 replaced a1, a3 and b2 at the end of the queue.
	if got := seqs(rest(t, b, s.C())); !slices.Equal(got, []int{4, 5, 6, 7, 8}) {
		t.Errorf("received %v, want [4 5 6 7 8]", got)
	}
	if s.Coalesced() != 3 || s.Dropped() != 0 {
		t.Errorf("coalesced %d, dropped %d; want 3, 0", s.Coalesced(), s.Dropped())
	}
}

// waitOffering waits until the subscription's pump offers the event with sequence number seq.
func waitOffering(t *testing.T, s *Subscription, seq uint64) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
		s.mu.Lock()
		off := s.offering
		s.mu.Unlock()
		if off == seq {
			return
		}
	}
	t.Fatalf("pump never offered event %d", seq)
}

// TestReplaceOfferedHead replaces the event the pump is already offering to a subscriber that is
// not reading yet: the subscriber must receive the replacement, not the stale event.
func TestReplaceOfferedHead(t *testing.T) {
	for _, tc := range []struct {
		name string
		opts SubscribeOptions
	}{
		{"coalesce", SubscribeOptions{Buffer: 4, Overflow: Coalesce, CoalesceKey: jobKey}},
		{"drop-oldest", SubscribeOptions{Buffer: 1, Overflow: DropOldest}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := NewBus()
			s := b.Subscribe(tc.opts)
			b.Publish(progress{"a", 1})
			waitOffering(t, s, 1)
			b.Publish(progress{"a", 2})
			waitOffering(t, s, 2)
			if got := seqs(receive(t, s.C(), 1)); !slices.Equal(got, []int{2}) {
				t.Errorf("received %v, want [2]", got)
			}
			if lost := s.Dropped() + s.Coalesced(); lost != 1 {
				t.Errorf("lost %d events, want 1", lost)
			}
			s.Close()
		})
	}
}

// TestDeliveryInOrder publishes to a reading subscriber with a tiny buffer: what it receives is in
// publication order, and received + dropped = published.
func TestDeliveryInOrder(t *testing.T) {
	const total = 20_000
	for _, policy := range []Policy{DropNewest, DropOldest} {
		t.Run(policy.String(), func(t *testing.T) {
			b := NewBus()
			s := b.Subscribe(SubscribeOptions{Buffer: 1, Overflow: policy})
			done := make(chan []int)
			go func() {
				var got []int
				for e := range s.C() {
					got = append(got, e.(named).n)
				}
				done <- got
			}()
			for i := range total {
				b.Publish(named{"x", i})
			}
			b.Close()
			got := <-done
			if !slices.IsSorted(got) || len(slices.Compact(slices.Clone(got))) != len(got) {
				t.Errorf("not in publication order: %v", got)
			}
			if uint64(len(got))+s.Dropped() != total {
				t.Errorf("received %d + dropped %d != %d published", len(got), s.Dropped(), total)
			}
			t.Logf("received %d of %d", len(got), total)
		})
	}
}

func TestSubscriptionClose(t *testing.T) {
	b := NewBus()
	s := b.Subscribe(SubscribeOptions{Buffer: 4})
	other := b.Subscribe(SubscribeOptions{})
	for i := range 10 {
		b.Publish(named{"x", i}) // s's pump is blocked offering event 0
	}
	s.Close()
	if _, ok := <-s.C(); ok {
		t.Error("channel delivered an event after Close")
	}
	s.Close() // idempotent
	dropped := s.Dropped()
	b.Publish(named{"x", 10})
	if s.Dropped() != dropped {
		t.Error("a closed subscription still counts events")
	}
	if subs := b.subs.Load(); subs == nil || len(*subs) != 1 || (*subs)[0] != other {
		t.Error("Close did not take the subscription off the bus")
	}
	if got := seqs(rest(t, b, other.C())); !slices.Equal(got, span(0, 11)) {
		t.Errorf("the other subscription received %v", got)
	}
	other.Close()
	if b.subs.Load() != nil {
		t.Error("bus still has subscriptions")
	}
}

func TestBusClose(t *testing.T) {
	b := NewBus()
	s := b.Subscribe(SubscribeOptions{Buffer: 4})
	b.Publish(named{"x", 1})
	b.Publish(named{"x", 2})
	if got := seqs(rest(t, b, s.C())); !slices.Equal(got, []int{1, 2}) {
		t.Errorf("after Bus.Close received %v, want the buffered [1 2]", got)
	}
	b.Close() // idempotent
	b.Publish(named{"x", 3})
	late := b.Subscribe(SubscribeOptions{})
	if _, ok := <-late.C(); ok {
		t.Error("a subscription made after Bus.Close delivered an event")
	}
	late.Close()
	s.Close()

	// Bus.Close does not wait for a subscriber that never reads; Close discards its buffer.
	b2 := NewBus()
	stuck := b2.Subscribe(SubscribeOptions{})
	b2.Publish(named{"x", 1})
	b2.Close()
	stuck.Close()
	if _, ok := <-stuck.C(); ok {
		t.Error("Close after Bus.Close still delivered")
	}
}

func TestSubscribePanics(t *testing.T) {
	for name, opts := range map[string]SubscribeOptions{
		"coalesce-without-key": {Overflow: Coalesce},
		"unknown-policy":       {Overflow: Policy(9)},
	} {
		t.Run(name, func(t *testing.T) {
			defer func() {
				if r := recover(); r == nil {
					t.Error("no panic")
				} else {
					t.Log(r)
				}
			}()
			NewBus().Subscribe(opts)
		})
	}
}

// TestConcurrent runs publishers, readers of every policy, and subscription churn together (run
// with -race), then checks that every published event is accounted for by each reader:
// received + dropped + coalesced = published.
func TestConcurrent(t *testing.T) {
	const publishers, perPublisher = 4, 5000
	b := NewBus()
	type reader struct {
		s        *Subscription
		received atomic.Uint64
	}
	var readers []*reader
	var reading sync.WaitGroup
	for i, opts := range []SubscribeOptions{
		{Buffer: 1},
		{Buffer: 8, Overflow: DropOldest},
		{Buffer: 2, Overflow: DropOldest},
		{Buffer: 4, Overflow: Coalesce, CoalesceKey: jobKey},
		{Buffer: 1, Overflow: Coalesce, CoalesceKey: jobKey},
		{Buffer: 1 << 16},
	} {
		opts.Topics = []string{"job."}
		r := &reader{s: b.Subscribe(opts)}
		readers = append(readers, r)
		reading.Go(func() {
			for range r.s.C() {
				r.received.Add(1)
				if i%2 == 0 {
					time.Sleep(time.Microsecond) // a slow reader
				}
			}
		})
	}
	stop := make(chan struct{})
	var churn sync.WaitGroup
	churn.Go(func() {
		for {
			select {
			case <-stop:
				return
			default:
			}
			s := b.Subscribe(SubscribeOptions{Buffer: 2, Overflow: DropOldest})
			b.Publish(named{"churn", 0})
			s.Close()
		}
	})
	var pub sync.WaitGroup
	for p := range publishers {
		pub.Go(func() {
			for i := range perPublisher {
				b.Publish(progress{fmt.Sprint(p, i%3), i})
			}
		})
	}
	pub.Wait()
	close(stop)
	churn.Wait()
	b.Close()
	reading.Wait()
	for i, r := range readers {
		if got := r.received.Load() + r.s.Dropped() + r.s.Coalesced(); got != publishers*perPublisher {
			t.Errorf("reader %d: received %d + dropped %d + coalesced %d != %d published", i,
				r.received.Load(), r.s.Dropped(), r.s.Coalesced(), publishers*perPublisher)
		}
		t.Logf("reader %d (%+v): received %d, dropped %d, coalesced %d", i, r.s.opts.Overflow,
			r.received.Load(), r.s.Dropped(), r.s.Coalesced())
	}
}
