package jobs

import "time"

// Estimator turns the progress readings of one phase of a job into a rate and a time left. It
// measures only what it saw happen: the first reading is the baseline (a resumed phase may start
// at 14,080 done; that is not a rate), and it gives no rate until MinElapsed has passed and
// MinItems were done since the baseline. The rate is over the readings of the last Window (so it
// follows a phase that speeds up or slows down) and counts the time since the newest reading (so
// it falls while nothing moves). Not safe for concurrent use.
type Estimator struct {
	// MinElapsed and MinItems gate the first rate (defaults 2 s and 1 item).
	MinElapsed time.Duration
	MinItems   int64
	// Window is how far back the rate looks (default 30 s).
	Window time.Duration

	phase   string
	samples []sample // oldest first; samples[0] is the baseline of the window
	total   int64
}

type sample struct {
	at   time.Time
	done int64
}

// Observe records a reading of phase at now. A new phase starts over.
func (e *Estimator) Observe(now time.Time, phase string, done, total int64) {
	if phase != e.phase || (len(e.samples) > 0 && done < e.samples[len(e.samples)-1].done) {
		e.phase, e.samples = phase, e.samples[:0]
	}
	e.total = total
	e.samples = append(e.samples, sample{now, done})
	// Keep one reading at or before the window's start as the baseline.
	w := e.window()
	k := 0
	for k+1 < len(e.samples) && now.Sub(e.samples[k+1].at) >= w {
		k++
	}
	if k > 0 {
		e.samples = append(e.samples[:0], e.samples[k:]...)
	}
}

func (e *Estimator) window() time.Duration {
	if e.Window > 0 {
		return e.Window
	}
	return 30 * time.Second
}

// Rate is the items per second at now, and false while there is not enough to tell.
func (e *Estimator) Rate(now time.Time) (float64, bool) {
	if len(e.samples) < 2 {
		return 0, false
	}
	first, last := e.samples[0], e.samples[len(e.samples)-1]
	minElapsed, minItems := e.MinElapsed, e.MinItems
	if minElapsed <= 0 {
		minElapsed = 2 * time.Second
	}
	if minItems <= 0 {
		minItems = 1
	}
	elapsed := now.Sub(first.at)
	if elapsed < minElapsed || last.done-first.done < minItems {
		return 0, false
	}
	return float64(last.done-first.done) / elapsed.Seconds(), true
}

// ETA is the time left at now at the current rate, and false when the total is unknown (0),
// already passed, or there is no rate yet.
func (e *Estimator) ETA(now time.Time) (time.Duration, bool) {
	rate, ok := e.Rate(now)
	if !ok || rate <= 0 || len(e.samples) == 0 {
		return 0, false
	}
	left := e.total - e.samples[len(e.samples)-1].done
	if e.total <= 0 || left < 0 {
		return 0, false
	}
	return time.Duration(float64(left) / rate * float64(time.Second)), true
}

// Fraction is done/total of the newest reading, and false when the total is unknown.
func (e *Estimator) Fraction() (float64, bool) {
	if e.total <= 0 || len(e.samples) == 0 {
		return 0, false
	}
	return min(float64(e.samples[len(e.samples)-1].done)/float64(e.total), 1), true
}
