package main

import (
	"bufio"
	"encoding/binary"
	"encoding/hex"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/zeebo/blake3"

	"github.com/cairnfs/cairn/internal/testtool"
)

type lsEntry struct {
	ID          int64   `json:"id"`
	Path        string  `json:"path"`
	Name        string  `json:"name"`
	Kind        string  `json:"kind"`
	Size        int64   `json:"size"`
	MtimeNs     int64   `json:"mtime_ns"`
	Inode       uint64  `json:"inode"`
	CasID       *string `json:"cas_id"`
	ContentUUID *string `json:"content_uuid"`
	PathBytes   string  `json:"path_bytes"`
}

// refCasID is REFERENCE.md §1 written out independently of core/cas, from the spec.
func refCasID(data []byte) string {
	size := len(data)
	var msg []byte
	msg = binary.LittleEndian.AppendUint64(msg, uint64(size))
	if size <= 102400 {
		msg = append(msg, data...)
	} else {
		msg = append(msg, data[:8192]...)
		jump := (size - 16384) / 4
		for i := 0; i < 4; i++ {
			off := 8192 + i*jump
			msg = append(msg, data[off:off+10240]...)
		}
		msg = append(msg, data[size-8192:]...)
	}
	sum := blake3.Sum256(msg)
	return hex.EncodeToString(sum[:])[:16]
}

// TestContentIdentitySizeClasses checks cas_id and content_uuid of files of every size class
// against the spec computed here, and that empty files get none.
func TestContentIdentitySizeClasses(t *testing.T) {
	home, dir := t.TempDir(), t.TempDir()
	sizes := []int{0, 1, 100 << 10, 100<<10 + 1, 1 << 20, 50 << 20, 16385, 123457}
	want := map[string][]byte{}
	seed := uint64(7)
	for _, n := range sizes {
		b := make([]byte, n)
		for i := range b {
			seed = seed*6364136223846793005 + 1442695040888963407
			b[i] = byte(seed >> 56)
		}
		p := filepath.Join(dir, "f"+strconv.Itoa(n)+".bin")
		writeFile(t, p, b)
		want[p] = b
	}
	must(t, home, "index", dir, "--no-progress")
	got := jsonLines[lsEntry](t, must(t, home, "ls", dir, "--json"))
	if len(got) != len(sizes) {
		t.Fatalf("ls listed %d entries, want %d", len(got), len(sizes))
	}
	ns := uuid.MustParse("6ba7b810-9dad-11d1-80b4-00c04fd430c8")
	for _, e := range got {
		data := want[e.Path]
		if len(data) == 0 {
			if e.CasID != nil {
				t.Errorf("%s: empty file got cas_id %s", e.Path, *e.CasID)
			}
			continue
		}
		exp := refCasID(data)
		if e.CasID == nil || *e.CasID != exp {
			t.Errorf("%s (%d bytes): cas_id %v, want %s", e.Path, len(data), e.CasID, exp)
			continue
		}
		if e.ContentUUID == nil || *e.ContentUUID != uuid.NewSHA1(ns, []byte(exp)).String() {
			t.Errorf("%s: content_uuid %v, want UUIDv5 of %s", e.Path, e.ContentUUID, exp)
		}
	}
}

// makeTree runs ../shared/bench/make-tree.sh (the benchmark tree of the acceptance criteria).
func makeTree(t testing.TB, dir string, n int, extra ...string) {
	t.Helper()
	script := filepath.Join(repoRoot(t), "..", "shared", "bench", "make-tree.sh")
	if _, err := os.Stat(script); err != nil {
		if testtool.InCI() {
			t.Fatalf("make-tree.sh not found at %s (CI=true: CI clones ../shared beside the repo)", script)
		}
		t.Skipf("make-tree.sh not found at %s (CI clones ../shared beside the repo)", script)
	}
	args := append([]string{script, dir, strconv.Itoa(n)}, extra...)
	if out, err := exec.Command("bash", args...).CombinedOutput(); err != nil {
		t.Fatalf("make-tree: %v\n%s", err, out)
	}
}

// expectedAfterIgnore lists what `find dir` lists, minus what the default ignore rules drop: the
// names below (the ones make-tree produces that our defaults ignore) and what real git says is
// ignored by the tree's .gitignore files.
func expectedAfterIgnore(t *testing.T, dir string) map[string]lsEntry {
	t.Helper()
	out, err := exec.Command("find", dir, "-mindepth", "1", "-printf", "%y %s %p\n").Output()
	if err != nil {
		t.Fatal(err)
	}
	all := map[string]lsEntry{}
	var paths []string
	kinds := map[string]string{"f": "file", "d": "dir", "l": "symlink"}
	sc := bufio.NewScanner(strings.NewReader(string(out)))
	for sc.Scan() {
		f := strings.SplitN(sc.Text(), " ", 3)
		size, _ := strconv.ParseInt(f[1], 10, 64)
		e := lsEntry{Path: f[2], Kind: kinds[f[0]], Size: size}
		if e.Kind == "dir" {
			e.Size = 0
		}
		all[f[2]] = e
		paths = append(paths, f[2])
	}
	ignoredNames := map[string]bool{".cache": true, "node_modules": true, ".git": true, "__pycache__": true, ".DS_Store": true, "Thumbs.db": true}
	ignored := map[string]bool{}
	// git decides .gitignore semantics: a throwaway repository over the tree, global config off.
	gitBin := testtool.Need(t, "git", "git")
	git := func(args ...string) *exec.Cmd {
		c := exec.Command(gitBin, append([]string{"-C", dir}, args...)...)
		c.Env = append(os.Environ(), "GIT_CONFIG_GLOBAL=/dev/null", "GIT_CONFIG_NOSYSTEM=1", "HOME="+t.TempDir())
		return c
	}
	if out, err := git("init", "-q").CombinedOutput(); err != nil {
		t.Fatalf("git init: %v %s", err, out)
	}
	defer os.RemoveAll(filepath.Join(dir, ".git"))
	var rels []string
	for _, p := range paths {
		rels = append(rels, strings.TrimPrefix(p, dir+"/"))
	}
	c := git("check-ignore", "--no-index", "--stdin")
	c.Stdin = strings.NewReader(strings.Join(rels, "\n") + "\n")
	gout, err := c.Output()
	if ee, ok := err.(*exec.ExitError); err != nil && !(ok && ee.ExitCode() == 1) {
		t.Fatalf("git check-ignore: %v", err)
	}
	for _, l := range strings.Split(strings.TrimSpace(string(gout)), "\n") {
		if l != "" {
			ignored[filepath.Join(dir, l)] = true
		}
	}
	want := map[string]lsEntry{}
	for _, p := range paths {
		drop := false
		for q := p; q != dir && q != "/"; q = filepath.Dir(q) {
			if ignoredNames[filepath.Base(q)] || ignored[q] {
				drop = true
				break
			}
		}
		if !drop {
			want[p] = all[p]
		}
	}
	return want
}

// TestIndexMatchesFind: after indexing a make-tree tree of 20,000 files, ls --recursive lists
// exactly what find lists (after the ignore rules), with the right kinds and sizes; and dupes are
// exactly the files with identical bytes (from make-tree's manifest).
func TestIndexMatchesFind(t *testing.T) {
	testtool.Need(t, "git", "git") // before the tree is made
	home, dir := t.TempDir(), filepath.Join(t.TempDir(), "tree")
	manifest := filepath.Join(t.TempDir(), "manifest.tsv")
	makeTree(t, dir, 20000, "-manifest", manifest)
	// a symlink, a dangling one and a loop: listed as symlinks, never followed
	os.Symlink("Documents", filepath.Join(dir, "docs-link"))
	os.Symlink("nowhere", filepath.Join(dir, "dangling"))
	os.Symlink("loop", filepath.Join(dir, "loop"))
	want := expectedAfterIgnore(t, dir)
	must(t, home, "index", dir, "--no-progress")
	got := jsonLines[lsEntry](t, must(t, home, "ls", dir, "--recursive", "--json"))
	seen := map[string]bool{}
	for _, e := range got {
		if seen[e.Path] {
			t.Errorf("listed twice: %s", e.Path)
		}
		seen[e.Path] = true
		w, ok := want[e.Path]
		switch {
		case !ok:
			t.Errorf("listed but not expected: %s (%s)", e.Path, e.Kind)
		case w.Kind != e.Kind:
			t.Errorf("%s: kind %s, find says %s", e.Path, e.Kind, w.Kind)
		case w.Kind != "dir" && w.Size != e.Size:
			t.Errorf("%s: size %d, find says %d", e.Path, e.Size, w.Size)
		}
	}
	for p := range want {
		if !seen[p] {
			t.Errorf("missing from ls: %s", p)
		}
	}
	t.Logf("find (after ignore rules) %d entries, ls %d", len(want), len(got))

	// Duplicates: groups of identical bytes among the indexed (not ignored) non-empty files.
	f, err := os.Open(manifest)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	groups := map[string][]string{}
	sc := bufio.NewScanner(f)
	sc.Scan() // header
	for sc.Scan() {
		cols := strings.Split(sc.Text(), "\t")
		p := filepath.Join(dir, cols[0])
		if cols[2] == "-1" {
			continue
		}
		if _, ok := want[p]; ok {
			groups[cols[2]] = append(groups[cols[2]], p)
		}
	}
	var wantSets []string
	for _, g := range groups {
		if len(g) > 1 {
			sort.Strings(g)
			wantSets = append(wantSets, strings.Join(g, "|"))
		}
	}
	type dupe struct {
		CasID string   `json:"cas_id"`
		Paths []string `json:"paths"`
	}
	var gotSets []string
	for _, d := range jsonLines[dupe](t, must(t, home, "dupes", "--json")) {
		sort.Strings(d.Paths)
		gotSets = append(gotSets, strings.Join(d.Paths, "|"))
	}
	sort.Strings(wantSets)
	sort.Strings(gotSets)
	if strings.Join(wantSets, "\n") != strings.Join(gotSets, "\n") {
		t.Errorf("dupes differ from the manifest: want %d groups, got %d", len(wantSets), len(gotSets))
	}
	if len(wantSets) == 0 {
		t.Error("the tree has no duplicates: the dupes check proves nothing")
	}
}
