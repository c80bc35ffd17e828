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
	home    library.Home
	libName string
	stdout  io.Writer
	stderr  io.Writer
}

type command struct {
	name    string
	summary string
	run     func(ctx context.Context, a *app, args []string) error
}

var commands []command

func register(c command) { commands = append(commands, c) }

// errUsage marks a usage error (exit code 2).
type errUsage struct{ msg string }

func (e errUsage) Error() string { return e.msg }

func usagef(format string, args ...any) error { return errUsage{fmt.Sprintf(format, args...)} }

func run(args []string, stdout, stderr io.Writer) int {
	a := &app{stdout: stdout, stderr: stderr}
	fs := flag.NewFlagSet("cairn", flag.ContinueOnError)
	fs.SetOutput(stderr)
	home := fs.String("home", "", "data directory (default $CAIRN_HOME, else ~/.local/share/cairn)")
	lib := fs.String("library", os.Getenv("CAIRN_LIBRARY"), "library to use (default: the only one; $CAIRN_LIBRARY)")
	fs.Usage = func() { printUsage(stderr, fs) }
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
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
	if p := os.Getenv("CAIRN_CPUPROFILE"); p != "" { // for developers: go tool pprof cairn $CAIRN_CPUPROFILE
		if f, err := os.Create(p); err == nil {
			pprof.StartCPUProfile(f)
			defer pprof.StopCPUProfile()
		}
	}
	rest := fs.Args()
	if len(rest) == 0 {
		printUsage(stderr, fs)
		return 2
	}
	if rest[0] == "help" {
		printUsage(stdout, fs)
		return 0
	}
	for _, c := range commands {
		if c.name != rest[0] {
			continue
		}
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		defer stop()
		err := c.run(ctx, a, rest[1:])
		var ue errUsage
		switch {
		case err == nil:
			return 0
		case errors.Is(err, flag.ErrHelp):
			return 0
		case errors.As(err, &ue):
			fmt.Fprintf(stderr, "cairn %s: %v\n", c.name, err)
			return 2
		default:
			fmt.Fprintf(stderr, "cairn %s: %v\n", c.name, err)
			return 1
		}
	}
	fmt.Fprintf(stderr, "cairn: unknown command %q (see `cairn help`)\n", rest[0])
	return 2
}

func printUsage(w io.Writer, fs *flag.FlagSet) {
	fmt.Fprintln(w, "usage: cairn [--home DIR] [--library NAME] COMMAND [ARGS]")
	fmt.Fprintln(w, "\ncommands:")
	cs := append([]command(nil), commands...)
	sort.Slice(cs, func(i, j int) bool { return cs[i].name < cs[j].name })
	for _, c := range cs {
		fmt.Fprintf(w, "  %-10s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w, "\nglobal flags:")
	fs.SetOutput(w)
	fs.PrintDefaults()
	fmt.Fprintln(w, "\nEvery listing command takes --json (one JSON object per line). `cairn COMMAND -h` shows its flags.")
}

// parse parses flags that may appear before, between or after positional arguments.
func parse(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, err
			}
			return nil, usagef("%v", err)
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

func newFlags(name string, a *app) *flag.FlagSet {
	fs := flag.NewFlagSet("cairn "+name, flag.ContinueOnError)
	fs.SetOutput(a.stderr)
	return fs
}

// open opens the library the command means. write takes the library's lock.
func (a *app) open(ctx context.Context, write, create bool) (*library.Library, error) {
	name, err := a.home.Resolve(a.libName, create)
	if err != nil {
		return nil, err
	}
	if create {
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
