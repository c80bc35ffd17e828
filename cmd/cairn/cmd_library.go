package main

import (
	"context"
	"fmt"
)

func init() {
	register(command{name: "library", summary: "create, list or delete libraries", run: runLibrary})
}

func runLibrary(ctx context.Context, a *app, args []string) error {
	fs := newFlags("library", a)
	asJSON := fs.Bool("json", false, "print JSON lines")
	fs.Usage = func() { fmt.Fprintln(a.stderr, "usage: cairn library create NAME | list [--json] | delete NAME") }
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) == 0 {
		return usagef("missing subcommand: create NAME, list, delete NAME")
	}
	switch pos[0] {
	case "create":
		if len(pos) != 2 {
			return usagef("usage: cairn library create NAME")
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
		for _, l := range libs {
			if *asJSON {
				if err := a.jsonLine(l); err != nil {
					return err
				}
				continue
			}
			fmt.Fprintf(a.stdout, "%-20s %10s  %s\n", l.Name, humanBytes(l.Size), l.Path)
		}
		if len(libs) == 0 && !*asJSON {
			fmt.Fprintf(a.stderr, "no libraries in %s\n", a.home.Dir)
		}
	case "delete":
		if len(pos) != 2 {
			return usagef("usage: cairn library delete NAME")
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
