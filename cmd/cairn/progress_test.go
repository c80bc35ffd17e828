package main

import (
	"strings"
	"testing"
	"time"

	"github.com/cairnfs/cairn/core/jobs"
)

// TestProgressLine renders readings of a stage with an injected clock: total, percentage, rate
// and ETA once there is a rate, never a rate from the first reading, and the file a stage has
// been busy on for more than a few seconds.
func TestProgressLine(t *testing.T) {
	t0 := time.Date(2026, 12, 7, 1, 0, 0, 0, time.UTC)
	sec := func(s float64) time.Time { return t0.Add(time.Duration(s * float64(time.Second))) }
	type reading struct {
		at          float64
		done, total int64
	}
	cases := []struct {
		name     string
		readings []reading
		now      float64
		item     string
		busy     time.Duration
		want     []string
		not      []string
	}{
		{"first reading of a resumed stage: total and percentage, no rate", []reading{{0, 14080, 20000}}, 0.1, "", 0,
			[]string{"thumbnail", "70% 14080/20000"}, []string{"/s", "ETA"}},
		{"rate and ETA once measured", []reading{{0, 14080, 20000}, {1, 14180, 20000}, {2, 14280, 20000}}, 2, "", 0,
			[]string{"71% 14280/20000", "100/s", "ETA 57s"}, nil},
		{"unknown total: a count and a rate, no bar", []reading{{0, 0, 0}, {4, 40, 0}}, 4, "", 0,
			[]string{"thumbnail 40", "10/s"}, []string{"%", "ETA", "["}},
		{"one file for 12 s: named", []reading{{0, 0, 10}, {3, 1, 10}}, 15, "/data/videos/2019/holiday.mkv", 12 * time.Second,
			[]string{"busy 12s on /data/videos/2019/holiday.mkv", "ETA"}, nil},
		{"one file for 1 s: not named", []reading{{0, 0, 10}}, 1, "/data/a.mkv", time.Second, nil, []string{"busy"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var est jobs.Estimator
			var ev jobs.Progress
			for _, r := range c.readings {
				ev = jobs.Progress{JobID: 1, Phase: "stage:stage.thumbnail", State: jobs.Running, Done: r.done, Total: r.total, Item: c.item}
				est.Observe(sec(r.at), ev.Phase, r.done, r.total)
			}
			line := progressLine(ev, &est, sec(c.now), 90*time.Second, c.busy)
			for _, w := range c.want {
				if !strings.Contains(line, w) {
					t.Errorf("%q lacks %q", line, w)
				}
			}
			for _, w := range c.not {
				if strings.Contains(line, w) {
					t.Errorf("%q has %q", line, w)
				}
			}
		})
	}
	if got := shortPath("/a/very/long/path/to/some/folder/with/a/file.mov", 20); got != "…der/with/a/file.mov" || len([]rune(got)) != 20 {
		t.Errorf("shortPath: %q", got)
	}
}
