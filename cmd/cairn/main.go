// Command cairn is Cairn's one binary: the CLI, and the host of its built-in extensions.
package main

import (
	"os"

	"github.com/cairnfs/cairn/host/process/sandbox"
	"github.com/cairnfs/cairn/internal/firstparty"
)

func main() {
	if sandbox.Main(os.Args[1:]) { // run by the host to start a native extension in its sandbox
		return
	}
	if firstparty.Serve(os.Args[1:]) { // run by the host as a built-in native extension
		return
	}
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}
