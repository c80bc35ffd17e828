package main

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"golang.org/x/term"

	"github.com/cairnfs/cairn/core/events"
	"github.com/cairnfs/cairn/core/jobs"
)

// progressBar draws job progress on one terminal line; it is silent when stderr is not a
// terminal. The rate and time left come from a jobs.Estimator; the line is redrawn every second
// even without events, so a rate falls and "busy on FILE" appears while one file takes long.
type progressBar struct {
	w     io.Writer
	on    bool
	mu    sync.Mutex
	start time.Time
	last  jobs.Progress
	seen  bool
	est   jobs.Estimator
	item  string
	since time.Time // when item became the current one
	width int
}

// busyAfter is how long one file must keep a stage busy before the bar names it.
const busyAfter = 3 * time.Second

func newProgressBar(w io.Writer, enabled bool) *progressBar {
	on := false
	if f, ok := w.(*os.File); ok && enabled {
		on = term.IsTerminal(int(f.Fd()))
	}
	return &progressBar{w: w, on: on, start: time.Now()}
}

// follow draws the progress events of bus until stop is called. Progress events of one job
// coalesce: a slow terminal sees the newest, never a backlog.
func (p *progressBar) follow(bus *events.Bus) (stop func()) {
	if !p.on {
		return func() {}
	}
	ch, sub := events.SubscribeTyped[jobs.Progress](bus, nil, events.SubscribeOptions{
		Buffer: 4, Overflow: events.Coalesce,
		CoalesceKey: func(e events.Event) string { return fmt.Sprint(e.(jobs.Progress).JobID) },
	})
	done := make(chan struct{})
	go func() {
		defer close(done)
		tick := time.NewTicker(time.Second)
		defer tick.Stop()
		for {
			select {
			case ev, ok := <-ch:
				if !ok {
					return
				}
				p.observe(ev, time.Now())
			case now := <-tick.C:
				p.redraw(now)
			}
		}
	}()
	return func() {
		sub.Close()
		<-done
		p.done()
	}
}

// update draws a reading now (for callers that report progress themselves).
func (p *progressBar) update(ev jobs.Progress) { p.observe(ev, time.Now()) }

func (p *progressBar) observe(ev jobs.Progress, now time.Time) {
	if !p.on {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if ev.Item != p.item || ev.Phase != p.last.Phase {
		p.item, p.since = ev.Item, now
	}
	p.est.Observe(now, ev.Phase, ev.Done, ev.Total)
	p.last, p.seen = ev, true
	p.draw(now)
}

func (p *progressBar) redraw(now time.Time) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.seen {
		p.draw(now)
	}
}

func (p *progressBar) draw(now time.Time) {
	if p.last.Phase == "" {
		return // a job that has not said what it does yet
	}
	line := progressLine(p.last, &p.est, now, now.Sub(p.start), now.Sub(p.since))
	pad := ""
	if n := p.width - len(line); n > 0 {
		pad = strings.Repeat(" ", n)
	}
	p.width = len(line)
	fmt.Fprintf(p.w, "\r%s%s", line, pad)
}

// progressLine renders one reading: phase, bar, percentage and done/total when the total is
// known, the rate and time left once the estimator has them, the elapsed time, and the file the
// job has been busy on for busy (when over busyAfter).
func progressLine(ev jobs.Progress, est *jobs.Estimator, now time.Time, elapsed, busy time.Duration) string {
	phase := strings.TrimPrefix(ev.Phase, "stage:")
	if ev.State == jobs.Paused {
		return fmt.Sprintf("%-8s paused at %d (resume with `cairn jobs resume %d`)", phase, ev.Done, ev.JobID)
	}
	var b strings.Builder
	if frac, ok := est.Fraction(); ok {
		const barW = 20
		filled := int(frac * barW)
		fmt.Fprintf(&b, "%-8s [%s%s] %3.0f%% %d/%d", phase, strings.Repeat("#", filled), strings.Repeat(".", barW-filled),
			frac*100, ev.Done, ev.Total)
	} else {
		fmt.Fprintf(&b, "%-8s %d", phase, ev.Done)
	}
	if rate, ok := est.Rate(now); ok {
		fmt.Fprintf(&b, "  %s/s", rateText(rate))
		if eta, ok := est.ETA(now); ok {
			fmt.Fprintf(&b, "  ETA %s", roundDuration(eta))
		}
	}
	fmt.Fprintf(&b, "  %s", roundDuration(elapsed))
	if ev.Item != "" && busy >= busyAfter {
		fmt.Fprintf(&b, "  busy %s on %s", roundDuration(busy), shortPath(ev.Item, 48))
	}
	return b.String()
}

func rateText(r float64) string {
	if r >= 10 {
		return fmt.Sprintf("%.0f", r)
	}
	return fmt.Sprintf("%.1f", r)
}

func roundDuration(d time.Duration) time.Duration { return d.Round(time.Second) }

// shortPath keeps the end of a long path: "…/photos/2019/IMG_0001.mov".
func shortPath(p string, n int) string {
	r := []rune(p)
	if len(r) <= n {
		return p
	}
	return "…" + string(r[len(r)-n+1:])
}

func (p *progressBar) done() {
	if !p.on || p.width == 0 {
		return
	}
	fmt.Fprintf(p.w, "\r%*s\r", p.width, "")
}
