package testtool

import (
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// Tool names an executable and the Debian package that provides it.
type Tool struct {
	Name    string // looked up on PATH, e.g. "pdftoppm"
	Package string // Debian package, e.g. "poppler-utils"
}

// InCI reports whether the environment has CI=true, where every tool a test needs must be
// installed.
func InCI() bool { return os.Getenv("CI") == "true" }

// Need returns the path of tool on PATH. When it is missing, Need skips the test with
// "TOOL is not installed (Debian package PKG)", or fails it with the same line under CI=true.
func Need(t testing.TB, tool, debianPackage string) string {
	t.Helper()
	return NeedAll(t, Tool{tool, debianPackage})[tool]
}

// NeedAll is Need for several tools at once: it returns each tool's path by name, and when any
// is missing it skips (or under CI=true fails) with one line naming all the missing ones.
func NeedAll(t testing.TB, tools ...Tool) map[string]string {
	t.Helper()
	paths, missing := look(tools)
	if len(missing) > 0 {
		if InCI() {
			t.Fatalf("%s (CI=true: .ci/run installs it)", Describe(missing))
		}
		t.Skip(Describe(missing))
	}
	return paths
}

// Optional is for a test whose main checks need nothing and which also compares with tool when
// it is there: it returns the tool's path and true, or logs the missing package and returns
// false so the test goes on without that comparison. Under CI=true a missing tool fails the test.
func Optional(t testing.TB, tool, debianPackage string) (string, bool) {
	t.Helper()
	paths, missing := look([]Tool{{tool, debianPackage}})
	if len(missing) == 0 {
		return paths[tool], true
	}
	if InCI() {
		t.Fatalf("%s (CI=true: .ci/run installs it)", Describe(missing))
	}
	t.Logf("%s; skipping the comparison with it", Describe(missing))
	return "", false
}

// Missing returns the tools that are not on PATH, for callers that report them themselves.
func Missing(tools ...Tool) []Tool {
	_, missing := look(tools)
	return missing
}

// Describe formats missing tools as one line: "a is not installed (Debian package p)" for one,
// "a, b are not installed (Debian packages p, q)" for several.
func Describe(missing []Tool) string {
	if len(missing) == 0 {
		return ""
	}
	var names, pkgs []string
	seen := map[string]bool{}
	for _, tl := range missing {
		names = append(names, tl.Name)
		if !seen[tl.Package] {
			seen[tl.Package] = true
			pkgs = append(pkgs, tl.Package)
		}
	}
	verb, noun := "is", "package"
	if len(names) > 1 {
		verb = "are"
	}
	if len(pkgs) > 1 {
		noun = "packages"
	}
	return fmt.Sprintf("%s %s not installed (Debian %s %s)", strings.Join(names, ", "), verb, noun, strings.Join(pkgs, ", "))
}

func look(tools []Tool) (map[string]string, []Tool) {
	paths := make(map[string]string, len(tools))
	var missing []Tool
	for _, tl := range tools {
		if p, err := exec.LookPath(tl.Name); err == nil {
			paths[tl.Name] = p
		} else {
			missing = append(missing, tl)
		}
	}
	return paths, missing
}
