package main

import (
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"golang.org/x/term"

	"github.com/cairnfs/cairn/core/events"
	"github.com/cairnfs/cairn/core/jobs"
)

// progressBar draws job progress on one terminal line; it is silent when stderr is not a terminal.
type progressBar struct {
	w       io.Writer
	on      bool
	mu      sync.Mutex
	start   time.Time
	phase   string
	phaseAt time.Time
	width   int
}

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
		for ev := range ch {
			p.update(ev)
		}
	}()
	return func() {
		sub.Close()
		<-done
		p.done()
	}
}

func (p *progressBar) update(ev jobs.Progress) {
	if !p.on {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	now := time.Now()
	if ev.Phase != p.phase {
		p.phase, p.phaseAt = ev.Phase, now
	}
	rate := float64(ev.Done) / max(now.Sub(p.phaseAt).Seconds(), 0.001)
	line := ""
	switch {
	case ev.State == jobs.Paused:
		line = fmt.Sprintf("%-8s paused at %d (resume with `cairn jobs resume %d`)", ev.Phase, ev.Done, ev.JobID)
	case ev.Total > 0:
		frac := min(float64(ev.Done)/float64(ev.Total), 1)
		const barW = 24
		filled := int(frac * barW)
		bar := make([]byte, barW)
		for i := range bar {
			if i < filled {
				bar[i] = '#'
			} else {
				bar[i] = '.'
			}
		}
		line = fmt.Sprintf("%-8s [%s] %3.0f%% %d/%d  %.0f/s  %s", ev.Phase, bar, frac*100, ev.Done, ev.Total, rate, now.Sub(p.start).Round(time.Second))
	default:
		line = fmt.Sprintf("%-8s %d  %.0f/s  %s", ev.Phase, ev.Done, rate, now.Sub(p.start).Round(time.Second))
	}
	pad := ""
	if n := p.width - len(line); n > 0 {
		pad = fmt.Sprintf("%*s", n, "")
	}
	p.width = len(line)
	fmt.Fprintf(p.w, "\r%s%s", line, pad)
}

func (p *progressBar) done() {
	if !p.on || p.width == 0 {
		return
	}
	fmt.Fprintf(p.w, "\r%*s\r", p.width, "")
}
