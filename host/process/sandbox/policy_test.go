package sandbox

import (
	"slices"
	"strings"
	"testing"
)

func TestPathDirs(t *testing.T) {
	got := PathDirs("/home/u/bin:/usr/local/bin::bin:/:/home:/home/u:/usr/bin/", "/home/u")
	want := []string{"/home/u/bin", "/usr/local/bin", "/usr/bin"}
	if !slices.Equal(got, want) {
		t.Fatalf("PathDirs = %q, want %q (no relative entry, no /, not the home nor its parents)", got, want)
	}
}

func TestParse(t *testing.T) {
	sum := strings.Repeat("ab", 32)
	p := Policy{ID: "dev.x", SHA256: sum, Read: []string{"/data"}}
	args, err := p.Command("/opt/x/bin", []string{"--flag"})
	if err != nil || args[0] != Arg {
		t.Fatalf("Command: %q, %v", args, err)
	}
	got, path, rest, err := parse(args[1:])
	if err != nil || got.ID != "dev.x" || path != "/opt/x/bin" || !slices.Equal(rest, []string{"--flag"}) || !slices.Equal(got.Read, p.Read) {
		t.Fatalf("parse: %+v %q %q %v", got, path, rest, err)
	}
	for name, tc := range map[string]struct {
		args []string
		want string
	}{
		"missing":  {[]string{`{}`}, "usage: cairn __sandbox-exec POLICY PATH"},
		"not-json": {[]string{`{`, "/bin/x"}, "reading the sandbox policy"},
		"bad-sum":  {[]string{`{"id":"dev.x","sha256":"zz"}`, "/bin/x"}, `sandbox policy of dev.x: sha256 "zz" is not 64 hex digits`},
		"relative": {[]string{`{"id":"dev.x","sha256":"` + sum + `"}`, "bin/x"}, `running dev.x: the binary path "bin/x" is not absolute`},
	} {
		if _, _, _, err := parse(tc.args); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v; want %q", name, err, tc.want)
		}
	}
}
