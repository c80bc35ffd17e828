package buildinfo

import (
	"runtime"
	"runtime/debug"
	"testing"
)

func TestFrom(t *testing.T) {
	for _, tc := range []struct {
		name  string
		bi    *debug.BuildInfo
		ok    bool
		want  Info
		short string
	}{
		{"no build info", nil, false, Info{Module: Unknown, Version: Unknown, Commit: Unknown}, Unknown},
		{"checkout without vcs stamp", &debug.BuildInfo{GoVersion: "go1.26.0", Main: debug.Module{Path: "github.com/cairnfs/cairn", Version: "(devel)"}}, true,
			Info{Module: "github.com/cairnfs/cairn", Version: "(devel)", Commit: Unknown, GoVersion: "go1.26.0"}, Unknown},
		{"stamped, dirty", &debug.BuildInfo{GoVersion: "go1.26.0", Main: debug.Module{Path: "github.com/cairnfs/cairn", Version: "(devel)"},
			Settings: []debug.BuildSetting{{Key: "vcs.revision", Value: "8e4c85611122233344455566677788899900aabb"}, {Key: "vcs.time", Value: "2026-12-07T00:00:00Z"}, {Key: "vcs.modified", Value: "true"}}}, true,
			Info{Module: "github.com/cairnfs/cairn", Version: "(devel)", Commit: "8e4c85611122233344455566677788899900aabb", CommitTime: "2026-12-07T00:00:00Z", Modified: true, GoVersion: "go1.26.0"}, "8e4c85611122+dirty"},
		{"go install @tag", &debug.BuildInfo{GoVersion: "go1.26.1", Main: debug.Module{Path: "github.com/cairnfs/cairn", Version: "v0.3.0"}}, true,
			Info{Module: "github.com/cairnfs/cairn", Version: "v0.3.0", Commit: Unknown, GoVersion: "go1.26.1"}, Unknown},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := From(tc.bi, tc.ok)
			tc.want.Platform = runtime.GOOS + "/" + runtime.GOARCH
			if tc.want.GoVersion == "" {
				tc.want.GoVersion = runtime.Version()
			}
			if got != tc.want {
				t.Errorf("From = %+v\nwant   %+v", got, tc.want)
			}
			if s := got.ShortCommit(); s != tc.short {
				t.Errorf("ShortCommit = %q, want %q", s, tc.short)
			}
		})
	}
}

// TestRead: the test binary has build information, so Read names this module and the running
// Go version.
func TestRead(t *testing.T) {
	in := Read()
	if in.GoVersion != runtime.Version() {
		t.Errorf("GoVersion = %q, want %q", in.GoVersion, runtime.Version())
	}
	if in.Version == "" || in.Commit == "" {
		t.Errorf("empty fields: %+v", in)
	}
}
