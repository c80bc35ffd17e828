package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"regexp"
	"strings"
)

// printHelp prints a command's -h, in the one format every command shares:
//
//	usage: cairn NAME ARGS        (one line per form, aligned descriptions)
//
//	one paragraph about the command
//
//	flags:
//	  --name VALUE   what it does (default …)
//
//	examples:
//	  cairn NAME …
//
//	global flags: --home DIR, --library NAME (cairn help)
func printHelp(w io.Writer, c command, fs *flag.FlagSet) {
	width := 0
	for _, u := range c.usage {
		syn, _, _ := strings.Cut(u, "\t")
		width = max(width, len(syn))
	}
	for i, u := range c.usage {
		lead := "usage: cairn "
		if i > 0 {
			lead = "       cairn "
		}
		syn, desc, ok := strings.Cut(u, "\t")
		switch {
		case !ok:
			fmt.Fprintf(w, "%s%s\n", lead, syn)
		case width > 40: // long synopses: the description goes under its synopsis
			fmt.Fprintf(w, "%s%s\n%s    %s\n", lead, syn, strings.Repeat(" ", len(lead)), desc)
		default:
			fmt.Fprintf(w, "%s%-*s  %s\n", lead, width, syn, desc)
		}
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, wrap(c.about, 100))
	if fs != nil && hasFlags(fs) {
		fmt.Fprintln(w, "\nflags:")
		printFlags(w, fs)
	}
	fmt.Fprintln(w, "\nexamples:")
	for _, e := range c.examples {
		fmt.Fprintf(w, "  %s\n", e)
	}
	if !c.noLibrary {
		fmt.Fprintln(w, "\nglobal flags: --home DIR, --library NAME (see cairn help)")
	}
}

func hasFlags(fs *flag.FlagSet) bool {
	n := 0
	fs.VisitAll(func(*flag.Flag) { n++ })
	return n > 0
}

// flagName is how a flag is written on the command line: -x for one letter, --name otherwise.
func flagName(name string) string {
	if len(name) == 1 {
		return "-" + name
	}
	return "--" + name
}

// printFlags prints a flag set's flags, one a line, aligned, sorted by name.
func printFlags(w io.Writer, fs *flag.FlagSet) {
	type row struct{ left, right string }
	var rows []row
	width := 0
	fs.VisitAll(func(f *flag.Flag) {
		arg, usage := flag.UnquoteUsage(f)
		left := flagName(f.Name)
		if arg != "" {
			left += " " + strings.ToUpper(arg)
		}
		if d := f.DefValue; d != "" && d != "false" && d != "0" && d != "[]" {
			usage += fmt.Sprintf(" (default %s)", d)
		}
		width = max(width, len(left))
		rows = append(rows, row{left, usage})
	})
	for _, r := range rows {
		fmt.Fprintf(w, "  %-*s  %s\n", width, r.left, r.right)
	}
}

var badValueRE = regexp.MustCompile(`^invalid (?:boolean )?value (".*") for (?:flag )?-([^:]+): (.*)$`)

// flagError rewords the flag package's parse errors the way a user typed the flag.
func flagError(err error) error {
	msg := err.Error()
	if name, ok := strings.CutPrefix(msg, "flag provided but not defined: -"); ok {
		return errors.New("unknown flag " + flagName(name))
	}
	if name, ok := strings.CutPrefix(msg, "flag needs an argument: -"); ok {
		return errors.New("flag " + flagName(name) + " needs a value")
	}
	if m := badValueRE.FindStringSubmatch(msg); m != nil { // invalid value "x" for flag -name: why
		return fmt.Errorf("invalid value %s for %s: %s", m[1], flagName(m[2]), m[3])
	}
	return err
}

// wrap folds a paragraph at width columns on spaces.
func wrap(s string, width int) string {
	var b strings.Builder
	n := 0
	for i, word := range strings.Fields(s) {
		if i > 0 {
			if n+1+len(word) > width {
				b.WriteByte('\n')
				n = 0
			} else {
				b.WriteByte(' ')
				n++
			}
		}
		b.WriteString(word)
		n += len(word)
	}
	return b.String()
}

// subcommands are the lowercase words right after a command's name in its usage lines.
func subcommands(c command) []string {
	var out []string
	seen := map[string]bool{}
	for _, u := range c.usage {
		syn, _, _ := strings.Cut(u, "\t")
		f := strings.Fields(syn)
		if len(f) < 2 || f[0] != c.name {
			continue
		}
		w := f[1]
		if w == "" || w[0] < 'a' || w[0] > 'z' || seen[w] {
			continue
		}
		seen[w] = true
		out = append(out, w)
	}
	return out
}
