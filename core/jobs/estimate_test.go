package jobs_test

import (
	"math"
	"testing"
	"time"

	"github.com/cairnfs/cairn/core/jobs"
)

// TestEstimator drives the estimator with an injected clock: each case is a list of readings
// (seconds after t0, phase, done, total) and what Rate and ETA say at a time after them.
func TestEstimator(t *testing.T) {
	type reading struct {
		at          float64
		phase       string
		done, total int64
	}
	t0 := time.Date(2026, 12, 7, 0, 0, 0, 0, time.UTC)
	at := func(s float64) time.Time { return t0.Add(time.Duration(s * float64(time.Second))) }
	cases := []struct {
		name     string
		readings []reading
		now      float64
		rate     float64 // -1: no rate
		eta      float64 // seconds; -1: no ETA
	}{
		{"first reading of a resumed phase has no rate", []reading{{0, "p", 14080, 20000}}, 0.1, -1, -1},
		{"one reading, much later: still no rate", []reading{{0, "p", 14080, 20000}}, 60, -1, -1},
		{"too soon after the baseline", []reading{{0, "p", 14080, 20000}, {1, "p", 14180, 20000}}, 1, -1, -1},
		{"nothing done since the baseline", []reading{{0, "p", 100, 200}, {5, "p", 100, 200}}, 5, -1, -1},
		{"rate from the baseline, not from zero", []reading{{0, "p", 14080, 20000}, {1, "p", 14180, 20000}, {2, "p", 14280, 20000}}, 2, 100, 57.2},
		{"stuck: the rate falls with the time since the last reading", []reading{{0, "p", 0, 1000}, {2, "p", 200, 1000}}, 4, 50, 16},
		{"unknown total: rate, no ETA", []reading{{0, "p", 0, 0}, {3, "p", 300, 0}}, 3, 100, -1},
		{"total passed: no ETA", []reading{{0, "p", 0, 100}, {3, "p", 300, 100}}, 3, 100, -1},
		{"a new phase starts over", []reading{{0, "a", 0, 100}, {10, "a", 100, 100}, {10, "b", 5000, 9000}}, 11, -1, -1},
		{"a new phase gets its own rate", []reading{{0, "a", 0, 100}, {10, "a", 100, 100}, {10, "b", 5000, 9000}, {12, "b", 5400, 9000}}, 12, 200, 18},
		{"done going back (a restart) starts over", []reading{{0, "p", 500, 1000}, {5, "p", 10, 1000}}, 5.5, -1, -1},
		{"the window forgets an old slow start", []reading{{0, "p", 0, 10000}, {40, "p", 40, 10000}, {50, "p", 1040, 10000}, {70, "p", 3040, 10000}}, 70, 100, 69.6},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := &jobs.Estimator{}
			for _, r := range c.readings {
				e.Observe(at(r.at), r.phase, r.done, r.total)
			}
			rate, ok := e.Rate(at(c.now))
			switch {
			case c.rate < 0 && ok:
				t.Errorf("rate %.2f/s, want none", rate)
			case c.rate >= 0 && (!ok || math.Abs(rate-c.rate) > 0.01):
				t.Errorf("rate %.2f/s (%v), want %.2f/s", rate, ok, c.rate)
			}
			eta, ok := e.ETA(at(c.now))
			switch {
			case c.eta < 0 && ok:
				t.Errorf("ETA %s, want none", eta)
			case c.eta >= 0 && (!ok || math.Abs(eta.Seconds()-c.eta) > 0.01):
				t.Errorf("ETA %s (%v), want %.2fs", eta, ok, c.eta)
			}
		})
	}
}
