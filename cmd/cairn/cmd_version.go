package main

import (
	"context"
	"fmt"

	"github.com/cairnfs/cairn/host/abi"
	"github.com/cairnfs/cairn/internal/buildinfo"
)

func init() {
	register(command{name: "version", summary: "print the version, commit, Go version and host ABI version", run: runVersion, noLibrary: true,
		usage: []string{"version [--json]"},
		about: "Prints which Cairn this is: the module version (a tag for `go install …@vX`, \"(devel)\" for a build from a " +
			"checkout), the VCS commit it was built from (\"unknown\" when the build recorded none, e.g. `go run` or " +
			"-buildvcs=false; \"+dirty\" when the checkout had changes), the Go version and the host ABI version " +
			"extensions are built against. `cairn --version` is the same.",
		examples: []string{"cairn version", "cairn --version", "cairn version --json"}})
}

// versionJSON is `cairn version --json`.
type versionJSON struct {
	buildinfo.Info
	ABI string `json:"abi_version"`
}

func runVersion(ctx context.Context, a *app, args []string) error {
	fs := newFlags("version", a)
	asJSON := fs.Bool("json", false, "print JSON")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 0 {
		return usagef("version takes no arguments")
	}
	in := buildinfo.Read()
	if *asJSON {
		return a.jsonLine(versionJSON{Info: in, ABI: abi.Version})
	}
	fmt.Fprintf(a.stdout, "cairn %s\n", in.Version)
	fmt.Fprintf(a.stdout, "commit:   %s", in.ShortCommit())
	if in.CommitTime != "" {
		fmt.Fprintf(a.stdout, " (%s)", in.CommitTime)
	}
	fmt.Fprintln(a.stdout)
	fmt.Fprintf(a.stdout, "go:       %s %s\n", in.GoVersion, in.Platform)
	fmt.Fprintf(a.stdout, "host ABI: %s\n", abi.Version)
	return nil
}
