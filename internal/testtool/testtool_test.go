package testtool

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// The helper tests below run only inside the child processes that TestNeed starts, so that a
// real skip and a real failure can be observed from outside.
const helperEnv = "CAIRN_TESTTOOL_HELPER"

func TestHelperNeed(t *testing.T) {
	if os.Getenv(helperEnv) == "" {
		return // only a helper for TestNeed; returning (not skipping) keeps the skip count honest
	}
	t.Logf("path=%s", Need(t, "cairn-present-tool", "present-pkg"))
	Need(t, "cairn-absent-tool", "absent-pkg")
	t.Log("reached after a missing tool")
}

func TestHelperNeedAll(t *testing.T) {
	if os.Getenv(helperEnv) == "" {
		return // only a helper for TestNeed; returning (not skipping) keeps the skip count honest
	}
	NeedAll(t, Tool{"cairn-present-tool", "present-pkg"}, Tool{"cairn-absent-tool", "absent-pkg"}, Tool{"cairn-absent-two", "other-pkg"})
	t.Log("reached after a missing tool")
}

func TestHelperOptional(t *testing.T) {
	if os.Getenv(helperEnv) == "" {
		return // only a helper for TestNeed; returning (not skipping) keeps the skip count honest
	}
	if p, ok := Optional(t, "cairn-present-tool", "present-pkg"); !ok || p == "" {
		t.Errorf("Optional(present) = %q, %v", p, ok)
	}
	if _, ok := Optional(t, "cairn-absent-tool", "absent-pkg"); ok {
		t.Error("Optional(absent) reported the tool present")
	}
	t.Log("reached after a missing tool")
}

// runHelper runs one helper test in a child process with PATH holding only a directory with
// the "present" tool, and CI set as given.
func runHelper(t *testing.T, name, ci string) (string, error) {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "cairn-present-tool"), []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^"+name+"$", "-test.v", "-test.count=1")
	cmd.Env = append(os.Environ(), helperEnv+"=1", "PATH="+dir, "CI="+ci)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

func TestNeed(t *testing.T) {
	for _, tc := range []struct {
		helper, ci string
		wantFail   bool
		want       []string
		notWant    []string
	}{
		{"TestHelperNeed", "", false,
			[]string{"--- SKIP: TestHelperNeed", "path=", "cairn-present-tool", "cairn-absent-tool is not installed (Debian package absent-pkg)"},
			[]string{"reached after", "CI=true"}},
		{"TestHelperNeed", "true", true,
			[]string{"--- FAIL: TestHelperNeed", "cairn-absent-tool is not installed (Debian package absent-pkg) (CI=true: .ci/run installs it)"},
			[]string{"reached after"}},
		{"TestHelperNeedAll", "", false,
			[]string{"--- SKIP: TestHelperNeedAll", "cairn-absent-tool, cairn-absent-two are not installed (Debian packages absent-pkg, other-pkg)"},
			[]string{"reached after", "present-pkg"}},
		{"TestHelperNeedAll", "true", true,
			[]string{"--- FAIL: TestHelperNeedAll", "(CI=true: .ci/run installs it)"},
			[]string{"reached after"}},
		{"TestHelperOptional", "", false,
			[]string{"--- PASS: TestHelperOptional", "cairn-absent-tool is not installed (Debian package absent-pkg); skipping the comparison", "reached after"},
			nil},
		{"TestHelperOptional", "true", true,
			[]string{"--- FAIL: TestHelperOptional", "cairn-absent-tool is not installed (Debian package absent-pkg) (CI=true: .ci/run installs it)"},
			[]string{"reached after"}},
		// CI must be exactly "true": other values are not CI.
		{"TestHelperNeed", "1", false, []string{"--- SKIP: TestHelperNeed"}, nil},
	} {
		out, err := runHelper(t, tc.helper, tc.ci)
		if failed := err != nil; failed != tc.wantFail {
			t.Errorf("%s CI=%q: failed=%v (%v), want failed=%v\n%s", tc.helper, tc.ci, failed, err, tc.wantFail, out)
			continue
		}
		for _, w := range tc.want {
			if !strings.Contains(out, w) {
				t.Errorf("%s CI=%q: output lacks %q:\n%s", tc.helper, tc.ci, w, out)
			}
		}
		for _, w := range tc.notWant {
			if strings.Contains(out, w) {
				t.Errorf("%s CI=%q: output has %q:\n%s", tc.helper, tc.ci, w, out)
			}
		}
	}
}

func TestDescribe(t *testing.T) {
	for _, tc := range []struct {
		in   []Tool
		want string
	}{
		{nil, ""},
		{[]Tool{{"gs", "ghostscript"}}, "gs is not installed (Debian package ghostscript)"},
		{[]Tool{{"ffmpeg", "ffmpeg"}, {"ffprobe", "ffmpeg"}}, "ffmpeg, ffprobe are not installed (Debian package ffmpeg)"},
		{[]Tool{{"pandoc", "pandoc"}, {"cwebp", "webp"}}, "pandoc, cwebp are not installed (Debian packages pandoc, webp)"},
	} {
		if got := Describe(tc.in); got != tc.want {
			t.Errorf("Describe(%v) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
