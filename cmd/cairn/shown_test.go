package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestShown(t *testing.T) {
	for _, c := range []struct{ in, want, lines string }{
		{"plain name.txt", "plain name.txt", "plain name.txt"},
		{"naïve – ok.md", "naïve – ok.md", "naïve – ok.md"},
		{"a\x1b[31mred", `"a\x1b[31mred"`, `a\x1b[31mred`},
		{"line\nforged", `"line\nforged"`, "line\nforged"},
		{"cr\rx", `"cr\rx"`, `cr\x0dx`},
		{"caf\xe9.txt", `"caf\xe9.txt"`, `caf\xe9.txt`},
		{"bell\a", `"bell\a"`, `bell\x07`},
	} {
		if got := shown(c.in); got != c.want {
			t.Errorf("shown(%q) = %s, want %s", c.in, got, c.want)
		}
		if got := shownLines(c.in); got != c.lines {
			t.Errorf("shownLines(%q) = %s, want %s", c.in, got, c.lines)
		}
	}
}

// TestHostileNamesInOutput: names with ESC, CR, LF and bytes that are not UTF-8 are printed
// escaped by ls, show and dupes (they were printed raw: terminal escape injection and forged
// lines).
func TestHostileNamesInOutput(t *testing.T) {
	home, dir := t.TempDir(), t.TempDir()
	names := []string{"a\x1b]0;owned\x07\x1b[31mred", "line\nforged.txt", "cr\rover.txt", "caf\xe9.txt"}
	for _, n := range names {
		if err := os.WriteFile(filepath.Join(dir, n), []byte("same bytes\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	must(t, home, "index", dir, "--no-progress")
	check := func(what, out string, wantLines int) {
		t.Helper()
		if strings.ContainsAny(out, "\x1b\r\a") {
			t.Errorf("%s printed a control character raw:\n%q", what, out)
		}
		if n := strings.Count(strings.TrimRight(out, "\n"), "\n") + 1; wantLines > 0 && n != wantLines {
			t.Errorf("%s printed %d lines, want %d (a name forged a line?):\n%s", what, n, wantLines, out)
		}
	}
	check("ls", must(t, home, "ls", dir), len(names))
	for _, n := range names {
		check("show", must(t, home, "show", filepath.Join(dir, n)), 0)
	}
	check("dupes", must(t, home, "dupes"), 0)
	if out := must(t, home, "dupes"); !strings.Contains(out, `line\nforged.txt"`) {
		t.Errorf("dupes does not show the escaped name:\n%s", out)
	}
}
