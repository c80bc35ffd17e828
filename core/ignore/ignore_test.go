package ignore

import (
	"fmt"
	"math/rand"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/cairnfs/cairn/internal/testtool"
)

// walk evaluates a real tree top-down the way the indexer does (ignored directories are not
// entered) and returns every path that is kept, relative to root.
func walk(t *testing.T, root string, opts Options) map[string]bool {
	t.Helper()
	top, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	kept := map[string]bool{}
	var visit func(dir, rel, name string, parent *Matcher)
	visit = func(dir, rel, name string, parent *Matcher) {
		ents, err := os.ReadDir(dir)
		if err != nil {
			t.Fatal(err)
		}
		var listing []string
		for _, e := range ents {
			listing = append(listing, e.Name())
		}
		m, warns, err := parent.Enter(name, listing, func(n string) ([]byte, error) { return os.ReadFile(filepath.Join(dir, n)) })
		if err != nil {
			t.Fatal(err)
		}
		_ = warns
		for _, e := range ents {
			if ign, _ := m.Match(e.Name(), e.IsDir()); ign {
				continue
			}
			r := filepath.Join(rel, e.Name())
			kept[r] = true
			if e.IsDir() {
				visit(filepath.Join(dir, e.Name()), r, e.Name(), m)
			}
		}
	}
	visit(root, "", "", top)
	return kept
}

// gitKept asks real git which paths are not ignored (a path inside an ignored directory counts
// as ignored, as for the indexer).
func gitKept(t *testing.T, root string, all []string) map[string]bool {
	t.Helper()
	env := append(os.Environ(), "GIT_CONFIG_GLOBAL=/dev/null", "GIT_CONFIG_NOSYSTEM=1", "HOME="+t.TempDir())
	init := exec.Command("git", "-C", root, "init", "-q")
	init.Env = env
	if out, err := init.CombinedOutput(); err != nil {
		t.Fatalf("git init: %v %s", err, out)
	}
	c := exec.Command("git", "-C", root, "check-ignore", "--no-index", "--stdin")
	c.Env = env
	c.Stdin = strings.NewReader(strings.Join(all, "\n") + "\n")
	out, err := c.Output()
	if ee, ok := err.(*exec.ExitError); err != nil && !(ok && ee.ExitCode() == 1) {
		t.Fatalf("git check-ignore: %v", err)
	}
	ignored := map[string]bool{}
	for _, l := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		ignored[l] = true
	}
	kept := map[string]bool{}
	for _, p := range all {
		ok := true
		for q := p; q != "." && q != ""; q = filepath.Dir(q) {
			if ignored[q] {
				ok = false
				break
			}
		}
		if ok {
			kept[p] = true
		}
	}
	return kept
}

var patternPool = []string{
	"*.log", "!keep.log", "build/", "/top.txt", "docs/*.md", "**/cache", "a/**/z", "x/**", "*.tmp", "!important.tmp",
	"[abc]?.txt", "[!a-m]*.dat", "foo", "/bar/", "sub/deep/", "\\#hash", "\\!bang", "trailing\\ ", "# comment", "",
	"*.[oa]", "nested/*/leaf", "**/gen/**", "!gen", "data?", "\\*star",
}

var namePool = []string{"keep.log", "x.log", "build", "top.txt", "readme.md", "cache", "z", "a", "x", "important.tmp",
	"other.tmp", "ab.txt", "b1.txt", "zz.dat", "ma.dat", "foo", "bar", "sub", "deep", "#hash", "!bang", "trailing ",
	"lib.o", "lib.a", "nested", "leaf", "gen", "data1", "*star", "docs", "plain.txt"}

func TestAgainstGit(t *testing.T) {
	testtool.Need(t, "git", "git")
	for seed := int64(1); seed <= 20; seed++ {
		t.Run(fmt.Sprint("seed", seed), func(t *testing.T) {
			rng := rand.New(rand.NewSource(seed))
			root := t.TempDir()
			var all []string
			var mk func(dir, rel string, depth int)
			mk = func(dir, rel string, depth int) {
				n := 3 + rng.Intn(6)
				for i := 0; i < n; i++ {
					name := namePool[rng.Intn(len(namePool))]
					p, r := filepath.Join(dir, name), filepath.Join(rel, name)
					if _, err := os.Lstat(p); err == nil {
						continue
					}
					if depth < 4 && rng.Intn(3) == 0 {
						os.Mkdir(p, 0o755)
						all = append(all, r)
						mk(p, r, depth+1)
					} else {
						os.WriteFile(p, []byte("x"), 0o644)
						all = append(all, r)
					}
				}
				if rng.Intn(2) == 0 || depth == 0 {
					var lines []string
					for j := 0; j < 2+rng.Intn(6); j++ {
						lines = append(lines, patternPool[rng.Intn(len(patternPool))])
					}
					os.WriteFile(filepath.Join(dir, ".gitignore"), []byte(strings.Join(lines, "\n")+"\n"), 0o644)
					all = append(all, filepath.Join(rel, ".gitignore"))
				}
			}
			mk(root, "", 0)
			opts := Options{IgnoreFiles: true} // only the ignore files: git knows nothing of our defaults
			got := walk(t, root, opts)
			want := gitKept(t, root, all)
			var diffs []string
			for p := range want {
				if !got[p] {
					diffs = append(diffs, "we ignore, git keeps: "+p)
				}
			}
			for p := range got {
				if !want[p] {
					diffs = append(diffs, "we keep, git ignores: "+p)
				}
			}
			t.Logf("%d paths, git keeps %d, we keep %d", len(all), len(want), len(got))
			sort.Strings(diffs)
			for _, d := range diffs {
				t.Error(d)
			}
			if t.Failed() {
				filepath.Walk(root, func(p string, info os.FileInfo, err error) error {
					if err == nil && info.Name() == ".gitignore" {
						b, _ := os.ReadFile(p)
						t.Logf("%s:\n%s", p, b)
					}
					return nil
				})
			}
		})
	}
}

func TestDefaults(t *testing.T) {
	cases := []struct {
		name    string
		dir     bool
		listing []string
		opts    Options
		want    bool
	}{
		{".DS_Store", false, nil, DefaultOptions(), true},
		{"notes.txt~", false, nil, DefaultOptions(), true},
		{"._photo.jpg", false, nil, DefaultOptions(), true},
		{".Trash-1000", true, nil, DefaultOptions(), true},
		{".git", true, nil, DefaultOptions(), true},
		{".git", false, nil, DefaultOptions(), false}, // a .git file (worktree pointer) is kept
		{"node_modules", true, nil, DefaultOptions(), true},
		{"target", true, nil, DefaultOptions(), false},
		{"target", true, []string{"Cargo.toml"}, DefaultOptions(), true},
		{"@eaDir", true, nil, DefaultOptions(), true},
		{".snapshots", true, nil, DefaultOptions(), true},
		{".bashrc", false, nil, DefaultOptions(), false},
		{".bashrc", false, nil, Options{IgnoreHidden: true}, true},
		{"node_modules", true, nil, Options{}, false},
		{"~", false, nil, DefaultOptions(), false},
	}
	for _, tc := range cases {
		top, _ := New(tc.opts)
		m, _, _ := top.Enter("", tc.listing, nil)
		if got, why := m.Match(tc.name, tc.dir); got != tc.want {
			t.Errorf("%q dir=%v listing=%v: ignored=%v (%s), want %v", tc.name, tc.dir, tc.listing, got, why, tc.want)
		}
	}
}

func TestExtraAndWarnings(t *testing.T) {
	top, err := New(Options{IgnoreFiles: true, Extra: []string{"*.iso", "/scratch/"}})
	if err != nil {
		t.Fatal(err)
	}
	root, warns, _ := top.Enter("", []string{".gitignore"}, func(string) ([]byte, error) { return []byte("ok.tmp\n[unclosed\n!*.iso\n"), nil })
	if len(warns) != 1 || !strings.Contains(warns[0], ".gitignore:2") {
		t.Errorf("warnings = %q, want one for line 2", warns)
	}
	if ign, _ := root.Match("scratch", true); !ign {
		t.Error("extra /scratch/ not applied")
	}
	if ign, _ := root.Match("disk.iso", false); ign {
		t.Error("a .gitignore negation should re-include what the location's pattern excluded")
	}
	sub, _, _ := root.Enter("scratch2", nil, nil)
	if ign, _ := sub.Match("scratch", true); ign {
		t.Error("anchored /scratch/ matched below the root")
	}
}

func FuzzParseLine(f *testing.F) {
	for _, p := range patternPool {
		f.Add(p)
	}
	f.Fuzz(func(t *testing.T, line string) {
		r, ok, err := parseLine(line)
		if err == nil && ok {
			r.match([]string{"a", "b"})
			r.match([]string{line})
		}
	})
}

func BenchmarkMatch(b *testing.B) {
	top, _ := New(DefaultOptions())
	root, _, _ := top.Enter("", []string{".gitignore"}, func(string) ([]byte, error) { return []byte("*.log\nbuild/\n!keep.log\n/docs/*.md\n"), nil })
	m, _, _ := root.Enter("src", nil, nil)
	names := []string{"main.go", "README.md", "debug.log", "node_modules", "photo.jpg", "x.tmp"}
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		m.Match(names[i%len(names)], i%4 == 0)
	}
}
