package main

import (
	"context"
	"fmt"
)

func init() {
	register(command{name: "library", summary: "create, list or delete libraries", run: runLibrary, noLibrary: true,
		usage: []string{
			"library create NAME\tmake a new, empty library",
			"library list [--json]\tthe libraries, with their database and sidecar sizes",
			"library delete NAME\tremove a library and everything it recorded (not your files)",
		},
		about: "A library is one index: its locations, contents, jobs and sidecars, in a folder <NAME>.cairn under " +
			"$CAIRN_HOME/libraries. Commands use the only library there is, or the one --library NAME (or " +
			"$CAIRN_LIBRARY) names; a name that does not exist is an error, never a new library.",
		examples: []string{"cairn library create photos", "cairn library list --json", "cairn library delete photos"}})
}

func runLibrary(ctx context.Context, a *app, args []string) error {
	fs := newFlags("library", a)
	asJSON := fs.Bool("json", false, "print JSON lines")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) == 0 {
		return usagef("missing command: create NAME, list or delete NAME")
	}
	switch pos[0] {
	case "create":
		if len(pos) != 2 {
			return usagef("create takes one NAME")
		}
		if err := a.home.Create(ctx, pos[1]); err != nil {
			return err
		}
		if _, err := a.home.Device(); err != nil {
			return err
		}
		if *asJSON {
			return a.jsonLine(map[string]string{"name": pos[1], "path": a.home.Path(pos[1])})
		}
		fmt.Fprintf(a.stdout, "created library %q at %s\n", pos[1], a.home.Path(pos[1]))
	case "list":
		libs, err := a.home.List()
		if err != nil {
			return err
		}
		if len(libs) > 0 && !*asJSON {
			fmt.Fprintf(a.stdout, "%-20s %10s %10s  %s\n", "NAME", "DATABASE", "SIDECARS", "PATH")
		}
		for _, l := range libs {
			if *asJSON {
				if err := a.jsonLine(l); err != nil {
					return err
				}
				continue
			}
			fmt.Fprintf(a.stdout, "%-20s %10s %10s  %s\n", l.Name, humanBytes(l.Size), humanBytes(l.SidecarBytes), l.Path)
		}
		if len(libs) == 0 && !*asJSON {
			fmt.Fprintf(a.stderr, "no libraries in %s\n", a.home.Dir)
		}
	case "delete":
		if len(pos) != 2 {
			return usagef("delete takes one NAME")
		}
		if err := a.home.Delete(pos[1]); err != nil {
			return err
		}
		if *asJSON {
			return a.jsonLine(map[string]any{"name": pos[1], "deleted": true})
		}
		fmt.Fprintf(a.stdout, "deleted library %q\n", pos[1])
	default:
		return usagef("unknown subcommand %q: create, list, delete", pos[0])
	}
	return nil
}
