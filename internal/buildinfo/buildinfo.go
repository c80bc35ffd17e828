package buildinfo

import (
	"runtime"
	"runtime/debug"
)

// Unknown stands for a value the build did not record (a binary built without VCS stamping, by
// `go run`, with -buildvcs=false, or outside a checkout).
const Unknown = "unknown"

// Info is what a binary knows about its own build.
type Info struct {
	// Module is the main module's path, e.g. github.com/cairnfs/cairn.
	Module string `json:"module"`
	// Version is the module version: a tag such as v0.3.0 for `go install …@v0.3.0`, a
	// pseudo-version, or "(devel)" for a build from a checkout.
	Version string `json:"version"`
	// Commit is the VCS revision, Unknown when the build has none.
	Commit string `json:"commit"`
	// CommitTime is the commit's time (RFC 3339), empty when unknown.
	CommitTime string `json:"commit_time,omitempty"`
	// Modified: the checkout had uncommitted changes.
	Modified bool `json:"modified,omitempty"`
	// GoVersion is the Go toolchain that built the binary.
	GoVersion string `json:"go_version"`
	// Platform is GOOS/GOARCH.
	Platform string `json:"platform"`
}

// Read returns the running binary's build information.
func Read() Info { return From(debug.ReadBuildInfo()) }

// From turns Go's build information into an Info; ok false (a binary without build
// information) gives Unknown for everything but the Go version and platform.
func From(bi *debug.BuildInfo, ok bool) Info {
	in := Info{Module: Unknown, Version: Unknown, Commit: Unknown, GoVersion: runtime.Version(),
		Platform: runtime.GOOS + "/" + runtime.GOARCH}
	if !ok || bi == nil {
		return in
	}
	if bi.GoVersion != "" {
		in.GoVersion = bi.GoVersion
	}
	if bi.Main.Path != "" {
		in.Module = bi.Main.Path
	}
	if bi.Main.Version != "" {
		in.Version = bi.Main.Version
	}
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			if s.Value != "" {
				in.Commit = s.Value
			}
		case "vcs.time":
			in.CommitTime = s.Value
		case "vcs.modified":
			in.Modified = s.Value == "true"
		}
	}
	return in
}

// ShortCommit is the first 12 characters of the commit (all of Unknown), with "+dirty" when the
// checkout was modified.
func (in Info) ShortCommit() string {
	c := in.Commit
	if len(c) > 12 && c != Unknown {
		c = c[:12]
	}
	if in.Modified {
		c += "+dirty"
	}
	return c
}
