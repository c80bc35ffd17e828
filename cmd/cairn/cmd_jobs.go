package main

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/cairnfs/cairn/core/index"
	"github.com/cairnfs/cairn/core/jobs"
)

func init() {
	register(command{name: "jobs", summary: "list, show, pause, resume or cancel jobs", run: runJobs,
		usage: []string{
			"jobs list [--all] [--json]\tthe running and paused jobs (--all: finished ones too)",
			"jobs show ID\tone job's state, phase and counts",
			"jobs pause ID\tpause a running job at its next batch",
			"jobs resume ID\tresume a paused job in the foreground",
			"jobs cancel ID\tcancel a job",
		},
		about: "Indexing and pipeline runs are durable jobs: they survive Ctrl-C, crashes and reboots, and can be paused " +
			"from another terminal.",
		examples: []string{"cairn jobs list", "cairn jobs pause 3", "cairn jobs resume 3"}})
}

func runJobs(ctx context.Context, a *app, args []string) error {
	fs := newFlags("jobs", a)
	asJSON := fs.Bool("json", false, "print JSON lines")
	all := fs.Bool("all", false, "list finished jobs too")
	noProgress := fs.Bool("no-progress", false, "resume: do not draw a progress bar")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) == 0 {
		pos = []string{"list"}
	}
	lib, err := a.open(ctx, false, false)
	if err != nil {
		return err
	}
	defer lib.Close()
	jm := lib.Jobs
	needID := func() error {
		if len(pos) != 2 {
			return usagef("usage: cairn jobs %s ID", pos[0])
		}
		return nil
	}
	switch pos[0] {
	case "list":
		js, err := jm.List(ctx, *all)
		if err != nil {
			return err
		}
		for _, j := range js {
			if *asJSON {
				if err := a.jsonLine(j); err != nil {
					return err
				}
				continue
			}
			fmt.Fprintf(a.stdout, "%4d  %-8s %-10s %-24s %21s  %s\n", j.ID, j.Kind, j.State, orDash(j.Phase), progressText(j.Done, j.Total),
				time.Unix(0, j.UpdatedAt).Format(time.DateTime))
		}
		if len(js) == 0 && !*asJSON {
			fmt.Fprintln(a.stderr, "no unfinished jobs (--all shows finished ones)")
		}
	case "show":
		if err := needID(); err != nil {
			return err
		}
		j, err := jm.Get(ctx, pos[1])
		if err != nil {
			return err
		}
		skips, err := jm.Skips(ctx, j.ID, 10000)
		if err != nil {
			return err
		}
		if *asJSON {
			type skip struct{ Path, Reason string }
			out := struct {
				jobs.Job
				SkipList []skip `json:"skip_list"`
			}{Job: *j}
			for _, s := range skips {
				out.SkipList = append(out.SkipList, skip{s[0], s[1]})
			}
			return a.jsonLine(out)
		}
		fmt.Fprintf(a.stdout, "job %d (%s) %s, phase %s, %s\n", j.ID, j.Kind, j.State, orDash(j.Phase), progressText(j.Done, j.Total))
		if j.Error != "" {
			fmt.Fprintf(a.stdout, "error: %s\n", j.Error)
		}
		for _, s := range skips {
			fmt.Fprintf(a.stdout, "skipped %s: %s\n", s[0], s[1])
		}
	case "pause", "cancel":
		if err := needID(); err != nil {
			return err
		}
		j, err := jm.Control(ctx, pos[1], pos[0])
		if err != nil {
			return err
		}
		if *asJSON {
			return a.jsonLine(j)
		}
		verb := map[string]string{"pause": "pause", "cancel": "cancel"}[pos[0]]
		if j.Alive() {
			fmt.Fprintf(a.stdout, "asked job %d to %s (process %d obeys at its next batch)\n", j.ID, verb, j.OwnerPID)
		} else {
			fmt.Fprintf(a.stdout, "job %d is %s\n", j.ID, j.State)
		}
	case "resume":
		if err := needID(); err != nil {
			return err
		}
		j, err := jm.Control(ctx, pos[1], "resume")
		if err != nil {
			return err
		}
		if j.Alive() {
			fmt.Fprintf(a.stdout, "asked job %d to resume (process %d)\n", j.ID, j.OwnerPID)
			return nil
		}
		// Nobody runs it: run it here, in the foreground.
		lib.Close()
		return resumeHere(ctx, a, j, *asJSON, *noProgress)
	default:
		return usagef("unknown subcommand %q: list, show, pause, resume, cancel", pos[0])
	}
	return nil
}

func resumeHere(ctx context.Context, a *app, j *jobs.Job, asJSON, noProgress bool) error {
	if j.Kind != index.JobKind {
		return fmt.Errorf("job %d: don't know how to run a %q job", j.ID, j.Kind)
	}
	lib, err := a.open(ctx, true, false)
	if err != nil {
		return err
	}
	defer lib.Close()
	locID, err := strconv.ParseInt(j.Target, 10, 64)
	if err != nil {
		return fmt.Errorf("job %d: bad target %q", j.ID, j.Target)
	}
	loc, err := lib.Store.LocationByID(ctx, locID)
	if err != nil {
		return fmt.Errorf("job %d: %w", j.ID, err)
	}
	return indexLocation(ctx, a, lib, loc, indexFlags{json: asJSON, noProgress: noProgress})
}

// progressText is "done/total", with "?" for a total that is not known (0).
func progressText(done, total int64) string {
	if total <= 0 {
		return fmt.Sprintf("%d/?", done)
	}
	return fmt.Sprintf("%d/%d", done, total)
}
