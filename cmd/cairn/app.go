package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/pprof"
	"sort"
	"strings"
	"syscall"

	"github.com/cairnfs/cairn/core/library"
)

// app is the state every subcommand shares: global flags and output streams.
type app struct {
	home       library.Home
	libName    string
	libFromEnv bool // libName came from $CAIRN_LIBRARY, not --library
	stdout     io.Writer
	stderr     io.Writer
	// flags is the flag set the running command built (newFlags), for its -h and completion.
	flags *flag.FlagSet
}

// command is a subcommand: its registration carries everything its -h, `cairn help` and the
// shell completions print, so they cannot drift from the command table.
type command struct {
	name    string
	summary string // one line, for `cairn help`
	// usage are the synopses after "cairn ", one per form, e.g. "library create NAME". A tab
	// separates an optional description: "library list [--json]\tthe libraries and their sizes".
	// A lowercase word right after the name is a subcommand (for completion).
	usage []string
	// about is a one-paragraph description for -h.
	about string
	// examples are full command lines, at least one.
	examples []string
	// noLibrary: the command never opens a library, so --library is not checked for it.
	noLibrary bool
	run       func(ctx context.Context, a *app, args []string) error
}

var commands []command

func register(c command) { commands = append(commands, c) }

func lookup(name string) (command, bool) {
	for _, c := range commands {
		if c.name == name {
			return c, true
		}
	}
	return command{}, false
}

// errUsage marks a usage error (exit code 2).
type errUsage struct{ msg string }

func (e errUsage) Error() string { return e.msg }

func usagef(format string, args ...any) error { return errUsage{fmt.Sprintf(format, args...)} }

func run(args []string, stdout, stderr io.Writer) int {
	a := &app{stdout: stdout, stderr: stderr}
	fs := flag.NewFlagSet("cairn", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	home := fs.String("home", "", "the data `dir`ectory (default $CAIRN_HOME, else ~/.local/share/cairn)")
	envLib := os.Getenv("CAIRN_LIBRARY")
	lib := fs.String("library", envLib, "the library to use, by `name` (default: the only one; $CAIRN_LIBRARY)")
	version := fs.Bool("version", false, "print the version and exit (same as: cairn version)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			printUsage(stdout, fs)
			return 0
		}
		fmt.Fprintf(stderr, "cairn: %v (see cairn help)\n", flagError(err))
		return 2
	}
	if *home == "" {
		*home = library.DefaultHome()
	}
	abs, err := filepath.Abs(*home)
	if err != nil {
		fmt.Fprintf(stderr, "cairn: --home %s: %v\n", *home, err)
		return 2
	}
	a.home, a.libName = library.Home{Dir: abs}, *lib
	a.libFromEnv = *lib != "" && *lib == envLib && !flagSet(fs, "library")
	if p := os.Getenv("CAIRN_CPUPROFILE"); p != "" { // for developers: go tool pprof cairn $CAIRN_CPUPROFILE
		if f, err := os.Create(p); err == nil {
			pprof.StartCPUProfile(f)
			defer pprof.StopCPUProfile()
		}
	}
	rest := fs.Args()
	if *version {
		rest = append([]string{"version"}, rest...)
	}
	if len(rest) == 0 {
		printUsage(stderr, fs)
		return 2
	}
	if rest[0] == "help" {
		if len(rest) > 1 {
			if c, ok := lookup(rest[1]); ok {
				return a.runCommand(c, []string{"-h"})
			}
			fmt.Fprintf(stderr, "cairn help: unknown command %q (see cairn help)\n", rest[1])
			return 2
		}
		printUsage(stdout, fs)
		return 0
	}
	c, ok := lookup(rest[0])
	if !ok {
		fmt.Fprintf(stderr, "cairn: unknown command %q (see cairn help)\n", rest[0])
		return 2
	}
	return a.runCommand(c, rest[1:])
}

// runCommand runs c and turns its outcome into an exit code: 0, 1 for a failure, 2 for a usage
// error (printed once, with where to read the usage).
func (a *app) runCommand(c command, args []string) int {
	if a.libName != "" && !c.noLibrary && !wantsHelp(args) {
		if err := a.home.Check(a.libName); err != nil {
			if a.libFromEnv {
				err = fmt.Errorf("%w (the name comes from $CAIRN_LIBRARY)", err)
			}
			fmt.Fprintf(a.stderr, "cairn %s: %s\n", c.name, shownLines(err.Error()))
			return 1
		}
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	err := c.run(ctx, a, args)
	var ue errUsage
	switch {
	case err == nil:
		return 0
	case errors.Is(err, flag.ErrHelp):
		printHelp(a.stdout, c, a.flags)
		return 0
	case errors.As(err, &ue):
		fmt.Fprintf(a.stderr, "cairn %s: %s (see cairn %s -h)\n", c.name, shownLines(err.Error()), c.name)
		return 2
	default:
		fmt.Fprintf(a.stderr, "cairn %s: %s\n", c.name, shownLines(err.Error()))
		return 1
	}
}

// wantsHelp reports whether args ask for -h before a "--".
func wantsHelp(args []string) bool {
	for _, s := range args {
		switch s {
		case "--":
			return false
		case "-h", "-help", "--help", "--h":
			return true
		}
	}
	return false
}

// flagSet reports whether the flag called name was given on the command line.
func flagSet(fs *flag.FlagSet, name string) bool {
	set := false
	fs.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	return set
}

func printUsage(w io.Writer, fs *flag.FlagSet) {
	fmt.Fprintln(w, "usage: cairn [--home DIR] [--library NAME] COMMAND [ARGS]")
	fmt.Fprintln(w, "\ncommands:")
	cs := append([]command(nil), commands...)
	sort.Slice(cs, func(i, j int) bool { return cs[i].name < cs[j].name })
	for _, c := range cs {
		fmt.Fprintf(w, "  %-11s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w, "\nglobal flags:")
	printFlags(w, fs)
	fmt.Fprintln(w, "\nEvery listing command takes --json (one JSON object per line). `cairn COMMAND -h` (or `cairn help COMMAND`) shows its usage.")
}

// parse parses flags that may appear before, between or after positional arguments.
func parse(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, err
			}
			return nil, usagef("%v", flagError(err))
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, nil
		}
		if args[0] == "--" {
			return append(pos, args[1:]...), nil
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}

// newFlags is the flag set of a command. It prints nothing itself: a -h comes back from parse
// as flag.ErrHelp and runCommand prints the command's help; a bad flag comes back as one usage
// error, printed once.
func newFlags(name string, a *app) *flag.FlagSet {
	fs := flag.NewFlagSet("cairn "+name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	a.flags = fs
	return fs
}

// open opens the library the command means. write takes the library's lock. create makes the
// library "default" when no library is named and the home has none at all (the very first
// `cairn index PATH`); a named library must exist.
func (a *app) open(ctx context.Context, write, create bool) (*library.Library, error) {
	name, err := a.home.Resolve(a.libName, create)
	if err != nil {
		return nil, err
	}
	if create && a.libName == "" {
		if _, err := os.Stat(a.home.Path(name)); errors.Is(err, os.ErrNotExist) {
			if err := a.home.Create(ctx, name); err != nil && !errors.Is(err, library.ErrExists) {
				return nil, err
			}
			fmt.Fprintf(a.stderr, "created library %q in %s\n", name, a.home.Dir)
		}
	}
	return a.home.Open(ctx, name, library.OpenOptions{Write: write})
}

// jsonLine writes v as one JSON object on its own line.
func (a *app) jsonLine(v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	b = append(b, '\n')
	_, err = a.stdout.Write(b)
	return err
}

// absPath resolves a command-line path to a clean absolute path (symlinks in it resolved, so the
// same folder always has the same location path).
func absPath(p string) (string, error) {
	abs, err := filepath.Abs(p)
	if err != nil {
		return "", fmt.Errorf("resolving %s: %w", p, err)
	}
	if r, err := filepath.EvalSymlinks(abs); err == nil {
		abs = r
	} else if errors.Is(err, os.ErrNotExist) {
		return "", fmt.Errorf("%s: no such file or directory", p)
	}
	return filepath.Clean(abs), nil
}

func humanBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}

func plural(n int64, word string) string {
	if n == 1 {
		return fmt.Sprintf("%d %s", n, word)
	}
	return fmt.Sprintf("%d %ss", n, strings.TrimSuffix(word, "s"))
}
