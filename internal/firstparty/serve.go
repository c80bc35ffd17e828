package firstparty

import (
	"fmt"
	"os"
	"path/filepath"

	mediathumb "github.com/cairnfs/cairn/extensions/mediathumb/stage"
	"github.com/cairnfs/cairn/sdk/plugin"
)

// ServeArg is the first argument with which the cairn binary runs as one of its built-in
// native extensions: `cairn __serve-extension ID`. The host starts it that way (a go-plugin
// child pinned to the binary's own SHA-256), so a native first-party extension needs no
// separate binary on disk.
const ServeArg = "__serve-extension"

// natives are the native first-party extensions compiled into this binary, by id.
var natives = map[string]func() map[string]plugin.Export{
	"dev.cairn.mediathumb": mediathumb.Exports,
}

// Serve serves the built-in native extension args names when args is [ServeArg, ID], and
// reports whether it did; it returns when the host is done with it. Call it first thing in
// main (and TestMain), before flags are parsed.
func Serve(args []string) bool {
	if len(args) < 1 || args[0] != ServeArg {
		return false
	}
	if len(args) != 2 || natives[args[1]] == nil {
		fmt.Fprintf(os.Stderr, "cairn %s: no built-in native extension %q\n", ServeArg, args[1:])
		os.Exit(2)
	}
	plugin.Serve(natives[args[1]]())
	return true
}

// NativeExec returns the command that runs the built-in native extension id: this executable
// with ServeArg.
func NativeExec(id string) (path string, args []string, err error) {
	if natives[id] == nil {
		return "", nil, fmt.Errorf("no built-in native extension %s", id)
	}
	exe, err := os.Executable()
	if err != nil {
		return "", nil, fmt.Errorf("finding this executable to run %s: %w", id, err)
	}
	if r, err := filepath.EvalSymlinks(exe); err == nil {
		exe = r
	}
	return exe, []string{ServeArg, id}, nil
}
