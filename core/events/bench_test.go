package events

import (
	"fmt"
	"strconv"
	"sync"
	"testing"
)

// BenchmarkPublish measures Publish with n subscribers that read everything ("reading"), that
// never read so that every event overflows ("full"), and whose topics do not match ("other-topic").
//
//	go test ./core/events -run '^$' -bench Publish -benchmem
func BenchmarkPublish(b *testing.B) {
	var ev Event = progress{"job-1", 1} // boxed once, as a producer reusing its event would
	for _, n := range []int{0, 1, 8} {
		b.Run(fmt.Sprintf("subs=%d/reading", n), func(b *testing.B) {
			bus := NewBus()
			var wg sync.WaitGroup
			for range n {
				s := bus.Subscribe(SubscribeOptions{Buffer: 1024})
				wg.Go(func() {
					for range s.C() {
					}
				})
			}
			b.ReportAllocs()
			for b.Loop() {
				bus.Publish(ev)
			}
			bus.Close()
			wg.Wait()
		})
		if n == 0 {
			continue
		}
		for _, policy := range []Policy{DropNewest, DropOldest, Coalesce} {
			b.Run(fmt.Sprintf("subs=%d/full/%s", n, policy), func(b *testing.B) {
				bus := NewBus()
				for range n {
					bus.Subscribe(SubscribeOptions{Buffer: 64, Overflow: policy, CoalesceKey: jobKey})
				}
				b.ReportAllocs()
				for b.Loop() {
					bus.Publish(ev)
				}
				bus.Close()
			})
		}
		b.Run(fmt.Sprintf("subs=%d/other-topic", n), func(b *testing.B) {
			bus := NewBus()
			for range n {
				bus.Subscribe(SubscribeOptions{Topics: []string{"index."}})
			}
			b.ReportAllocs()
			for b.Loop() {
				bus.Publish(ev)
			}
			bus.Close()
		})
	}
}

// BenchmarkPublishParallel publishes from every P to 8 reading subscribers.
func BenchmarkPublishParallel(b *testing.B) {
	bus := NewBus()
	var wg sync.WaitGroup
	for range 8 {
		s := bus.Subscribe(SubscribeOptions{Buffer: 1024, Overflow: DropOldest})
		wg.Go(func() {
			for range s.C() {
			}
		})
	}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		var ev Event = progress{"job-1", 1}
		for pb.Next() {
			bus.Publish(ev)
		}
	})
	bus.Close()
	wg.Wait()
}

// BenchmarkCoalesceDistinctKeys is the worst case of Coalesce: a full buffer of 64 distinct keys,
// scanned on every publish.
func BenchmarkCoalesceDistinctKeys(b *testing.B) {
	bus := NewBus()
	bus.Subscribe(SubscribeOptions{Buffer: 64, Overflow: Coalesce, CoalesceKey: jobKey})
	evs := make([]Event, 1024)
	for i := range evs {
		evs[i] = progress{strconv.Itoa(i), i}
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		bus.Publish(evs[i%len(evs)])
		i++
	}
	bus.Close()
}

func BenchmarkThrottleOffer(b *testing.B) {
	th := NewThrottle(1<<62, func(int) {})
	b.ReportAllocs()
	for b.Loop() {
		th.Offer(1)
	}
	th.Flush()
}
