package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/cairnfs/cairn/host/abi"
	"github.com/cairnfs/cairn/host/backend"
	"github.com/cairnfs/cairn/internal/testtool"
)

// runInProcess runs the CLI in this process (for output-format tests that need no library).
func runInProcess(t *testing.T, args ...string) result {
	t.Helper()
	t.Setenv("CAIRN_LIBRARY", "")
	var so, se bytes.Buffer
	code := run(append([]string{"--home", t.TempDir()}, args...), &so, &se)
	return result{so.String(), se.String(), code}
}

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// golden compares got with testdata/name, or rewrites it under -update.
func golden(t *testing.T, name, got string) {
	t.Helper()
	p := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(p)
	if err != nil {
		t.Fatalf("%v (run go test -run %s -update to create it)", err, t.Name())
	}
	if got != string(want) {
		t.Errorf("output differs from %s (go test -run %s -update rewrites it):\n--- got\n%s\n--- want\n%s", p, t.Name(), got, want)
	}
}

// TestHelpFormat walks every registered command's -h: one format for all (usage line, one
// paragraph, flags, examples), on stdout, exit 0, nothing on stderr. `cairn help CMD` is the
// same text. ls and library are also compared with golden files.
func TestHelpFormat(t *testing.T) {
	flagLine := regexp.MustCompile(`^  (-[a-z0-9]|--[a-z0-9-]+)( [A-Z0-9|_-]+)?  +\S`)
	for _, c := range commands {
		t.Run(c.name, func(t *testing.T) {
			r := runInProcess(t, c.name, "-h")
			if r.code != 0 || r.stderr != "" {
				t.Fatalf("cairn %s -h: exit %d, stderr %q", c.name, r.code, r.stderr)
			}
			if r2 := runInProcess(t, "help", c.name); r2.stdout != r.stdout || r2.code != 0 {
				t.Errorf("cairn help %s differs from cairn %s -h:\n%s", c.name, c.name, r2.stdout)
			}
			if r3 := runInProcess(t, c.name, "--help"); r3.stdout != r.stdout || r3.code != 0 {
				t.Errorf("cairn %s --help differs from -h", c.name)
			}
			parts := strings.Split(strings.TrimSuffix(r.stdout, "\n"), "\n\n")
			if !strings.HasPrefix(parts[0], "usage: cairn "+c.name) {
				t.Fatalf("first line is not \"usage: cairn %s …\":\n%s", c.name, r.stdout)
			}
			if len(parts) < 3 || parts[1] == "" || strings.HasPrefix(parts[1], "flags:") || strings.HasPrefix(parts[1], "examples:") {
				t.Fatalf("no summary paragraph after the usage:\n%s", r.stdout)
			}
			var sawFlags, sawExamples bool
			for _, p := range parts[2:] {
				lines := strings.Split(p, "\n")
				switch lines[0] {
				case "flags:":
					sawFlags = true
					for _, l := range lines[1:] {
						if !flagLine.MatchString(l) {
							t.Errorf("flag line %q is not \"  --name [VALUE]  what it does\"", l)
						}
					}
				case "examples:":
					sawExamples = true
					if len(lines) < 2 {
						t.Error("no example")
					}
					for _, l := range lines[1:] {
						if !strings.HasPrefix(l, "  ") || !strings.Contains(l, "cairn") {
							t.Errorf("example %q is not an indented cairn command line", l)
						}
					}
				}
			}
			if !sawExamples {
				t.Errorf("no examples section:\n%s", r.stdout)
			}
			if fs, err := commandFlags(c); err != nil {
				t.Fatal(err)
			} else if hasFlags(fs) != sawFlags {
				t.Errorf("flags section present = %v, command has flags = %v", sawFlags, hasFlags(fs))
			}
			if c.name == "ls" || c.name == "library" {
				golden(t, "help-"+c.name+".golden", r.stdout)
			}
		})
	}
}

// TestUnknownFlagOnce: an unknown flag is one line on stderr naming the flag as typed and where
// the usage is, exit 2, nothing on stdout (no usage dump), for every command and for cairn's own
// flags.
func TestUnknownFlagOnce(t *testing.T) {
	r := runInProcess(t, "ls", "--bogus")
	if r.code != 2 || r.stdout != "" || r.stderr != "cairn ls: unknown flag --bogus (see cairn ls -h)\n" {
		t.Fatalf("cairn ls --bogus: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
	for _, c := range commands {
		r := runInProcess(t, c.name, "x", "-Z")
		want := "cairn " + c.name + ": unknown flag -Z (see cairn " + c.name + " -h)\n"
		if r.code != 2 || r.stdout != "" || r.stderr != want {
			t.Errorf("cairn %s x -Z: exit %d, stdout %q, stderr %q; want %q", c.name, r.code, r.stdout, r.stderr, want)
		}
	}
	if r := runInProcess(t, "--bogus", "ls"); r.code != 2 || r.stderr != "cairn: unknown flag --bogus (see cairn help)\n" {
		t.Errorf("cairn --bogus ls: exit %d, stderr %q", r.code, r.stderr)
	}
	if r := runInProcess(t, "index", "--mode"); r.code != 2 || r.stderr != "cairn index: flag --mode needs a value (see cairn index -h)\n" {
		t.Errorf("cairn index --mode: exit %d, stderr %q", r.code, r.stderr)
	}
	if r := runInProcess(t, "dupes", "--min-size", "lots"); r.code != 2 || r.stderr != "cairn dupes: invalid value \"lots\" for --min-size: parse error (see cairn dupes -h)\n" {
		t.Errorf("cairn dupes --min-size lots: exit %d, stderr %q", r.code, r.stderr)
	}
}

// TestVersion: cairn version prints the module version, commit, Go version and host ABI version;
// --version is the same; --json has them as fields.
func TestVersion(t *testing.T) {
	text := must(t, t.TempDir(), "version")
	if alt := must(t, t.TempDir(), "--version"); alt != text {
		t.Errorf("--version %q differs from version %q", alt, text)
	}
	for _, want := range []string{"cairn (devel)\n", "commit:   ", "go:       " + runtime.Version(), "host ABI: " + abi.Version + "\n"} {
		if !strings.Contains(text, want) {
			t.Errorf("version output lacks %q:\n%s", want, text)
		}
	}
	var v struct {
		Module, Version, Commit string
		GoVersion               string `json:"go_version"`
		ABI                     string `json:"abi_version"`
	}
	if err := json.Unmarshal([]byte(must(t, t.TempDir(), "version", "--json")), &v); err != nil {
		t.Fatal(err)
	}
	// The test binary is built from a checkout: "(devel)"; its commit is stamped unless the
	// build had -buildvcs=false (this machine's GOFLAGS), then it is "unknown".
	if v.Module != "github.com/cairnfs/cairn" || v.Version != "(devel)" || v.GoVersion != runtime.Version() || v.ABI != abi.Version {
		t.Errorf("version --json = %+v", v)
	}
	if v.Commit != "unknown" && !regexp.MustCompile(`^[0-9a-f]{40}$`).MatchString(v.Commit) {
		t.Errorf("commit %q is neither a revision nor \"unknown\"", v.Commit)
	}
}

// TestCompletion: each shell's script names every registered command, every subcommand and
// every flag; the bash script parses (bash -n) and completes commands, subcommands and flags.
func TestCompletion(t *testing.T) {
	specs, err := completionSpecs()
	if err != nil {
		t.Fatal(err)
	}
	scripts := map[string]string{}
	for _, sh := range []string{"bash", "zsh", "fish"} {
		r := runInProcess(t, "completion", sh)
		if r.code != 0 {
			t.Fatalf("completion %s: exit %d %s", sh, r.code, r.stderr)
		}
		scripts[sh] = r.stdout
		if len(specs) != len(commands) {
			t.Fatalf("%d specs for %d commands", len(specs), len(commands))
		}
		for _, s := range specs {
			for _, w := range append(append([]string{s.name}, s.subcommands...), strings.Fields(flagWords(s.flags))...) {
				if sh == "fish" && strings.HasPrefix(w, "-") { // fish writes flags as -l NAME / -s N
					w = strings.TrimLeft(w, "-")
				}
				if !regexp.MustCompile(`(^|[\s"'(|=])` + regexp.QuoteMeta(w) + `($|[\s"')|;])`).MatchString(r.stdout) {
					t.Errorf("%s script lacks %q (command %s)", sh, w, s.name)
				}
			}
		}
	}
	// Spot checks that the table is complete: subcommands and flags of a few commands.
	for _, s := range specs {
		if s.name == "library" && strings.Join(s.subcommands, " ") != "create list delete" {
			t.Errorf("library subcommands %v", s.subcommands)
		}
		if s.name == "ls" && flagWords(s.flags) != "--json -r --recursive -h" {
			t.Errorf("ls flags %q", flagWords(s.flags))
		}
	}
	if r := runInProcess(t, "completion", "tcsh"); r.code != 2 {
		t.Errorf("completion tcsh: exit %d", r.code)
	}
	bash := testtool.Need(t, "bash", "bash")
	script := filepath.Join(t.TempDir(), "cairn.bash")
	if err := os.WriteFile(script, []byte(scripts["bash"]), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(bash, "-n", script).CombinedOutput(); err != nil {
		t.Fatalf("bash -n: %v\n%s", err, out)
	}
	for _, tc := range []struct {
		words string
		want  string
	}{
		{"cairn li", "library"},
		{"cairn --home /tmp/x libr", "library"},
		{"cairn library ''", "create list delete"},
		{"cairn --library x pipeline st", "status"},
		{"cairn ls --r", "--recursive"},
		{"cairn index --mode content --no-p", "--no-pipeline --no-progress"},
		{"cairn --v", "--version"},
		{"cairn help sid", "sidecar"},
	} {
		cword := len(strings.Fields(tc.words)) - 1
		src := "source " + script + "; COMP_WORDS=(" + tc.words + "); COMP_CWORD=" + strconv.Itoa(cword) + `; _cairn; echo "${COMPREPLY[*]}"`
		out, err := exec.Command(bash, "-c", src).CombinedOutput()
		if err != nil || strings.TrimSpace(string(out)) != tc.want {
			t.Errorf("completing %q: %q, %v; want %q", tc.words, out, err, tc.want)
		}
	}
	for _, c := range []struct {
		sh   testtool.Tool
		args []string
	}{
		{testtool.Tool{Name: "zsh", Package: "zsh"}, []string{"-n"}},
		{testtool.Tool{Name: "fish", Package: "fish"}, []string{"--no-execute"}},
	} {
		p, ok := testtool.Optional(t, c.sh.Name, c.sh.Package)
		if !ok {
			continue // its script is only checked for names
		}
		f := filepath.Join(t.TempDir(), "cairn."+c.sh.Name)
		os.WriteFile(f, []byte(scripts[c.sh.Name]), 0o644)
		if out, err := exec.Command(p, append(c.args, f)...).CombinedOutput(); err != nil {
			t.Errorf("%s %v: %v\n%s", c.sh.Name, c.args, err, out)
		}
	}
}

// TestNamedLibraryMustExist: --library NAME (or $CAIRN_LIBRARY) naming no library is an error
// for every command, index included, and creates nothing. Only `library create` and the first
// `index PATH` of a home with no library at all create one. Issue 12, defect 4.
func TestNamedLibraryMustExist(t *testing.T) {
	home, dir := t.TempDir(), t.TempDir()
	writeFile(t, filepath.Join(dir, "a.txt"), []byte("a"))
	want := "library nope does not exist in " + home + " (cairn library list; cairn library create nope)"
	for _, args := range [][]string{
		{"index", dir, "--no-progress"}, {"index", "--no-progress"}, {"ls", dir}, {"show", dir}, {"dupes"}, {"verify"},
		{"jobs", "list"}, {"location", "add", dir}, {"location", "list"}, {"pipeline", "status"}, {"sidecar", "ls", dir},
		{"ext", "list"},
	} {
		r := cairn(t, home, append([]string{"--library", "nope"}, args...)...)
		if r.code != 1 || !strings.Contains(r.stderr, want) {
			t.Errorf("--library nope %s: exit %d, stderr %q; want exit 1 and %q", strings.Join(args, " "), r.code, r.stderr, want)
		}
	}
	if _, err := os.Stat(filepath.Join(home, "libraries")); !os.IsNotExist(err) {
		t.Fatalf("a command with a missing --library created the libraries folder: %v", err)
	}
	// The same from $CAIRN_LIBRARY, which the message names.
	cmd := exec.Command(cairnBin, "--home", home, "index", dir, "--no-progress")
	cmd.Env = append(os.Environ(), "CAIRN_LIBRARY=nope")
	out, err := cmd.CombinedOutput()
	if err == nil || !strings.Contains(string(out), want+" (the name comes from $CAIRN_LIBRARY)") {
		t.Errorf("CAIRN_LIBRARY=nope index: %v %q", err, out)
	}
	// The first index of an empty home creates "default"; with a library present, a bare index
	// uses it and creates no other.
	if r := cairn(t, home, "location", "add", dir); r.code != 1 || !strings.Contains(r.stderr, "no library") {
		t.Errorf("location add in an empty home: exit %d %q (only index creates a first library)", r.code, r.stderr)
	}
	must(t, home, "index", dir, "--no-progress")
	other := t.TempDir()
	must(t, other, "library", "create", "photos")
	must(t, other, "index", dir, "--no-progress")
	libs := jsonLines[struct{ Name string }](t, must(t, other, "library", "list", "--json"))
	if len(libs) != 1 || libs[0].Name != "photos" {
		t.Errorf("index with one library created another: %+v", libs)
	}
	// help and version need no library.
	if r := cairn(t, home, "--library", "nope", "version"); r.code != 0 {
		t.Errorf("--library nope version: exit %d %q", r.code, r.stderr)
	}
	if r := cairn(t, home, "--library", "nope", "ls", "-h"); r.code != 0 {
		t.Errorf("--library nope ls -h: exit %d %q", r.code, r.stderr)
	}
}

// TestEmptyLibraryDB: a 0-byte library.db of an existing library is reported as corrupt by
// every command, never taken for a new library, and left as it is. Issue 12, defect 6.
func TestEmptyLibraryDB(t *testing.T) {
	home, dir := t.TempDir(), t.TempDir()
	writeFile(t, filepath.Join(dir, "a.txt"), []byte("a"))
	must(t, home, "index", dir, "--no-progress")
	db := filepath.Join(home, "libraries", "default.cairn", "library.db")
	for _, p := range []string{db, db + "-wal", db + "-shm"} {
		if err := os.Truncate(p, 0); err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
	}
	for _, args := range [][]string{{"index", dir, "--no-progress"}, {"index", "--no-progress"}, {"ls", dir}, {"location", "add", t.TempDir()}, {"jobs", "list"}} {
		r := cairn(t, home, args...)
		if r.code != 1 || !strings.Contains(r.stderr, "library default: library.db is empty (0 bytes): the database is corrupt or was truncated; restore it from a backup") {
			t.Errorf("%s: exit %d, stderr %q", strings.Join(args, " "), r.code, r.stderr)
		}
		if st, err := os.Stat(db); err != nil || st.Size() != 0 {
			t.Fatalf("%s changed library.db: %v, %v", strings.Join(args, " "), st.Size(), err)
		}
	}
	// Not SQLite at all.
	os.WriteFile(db, []byte("PK\x03\x04 a zip file, not a database"), 0o644)
	if r := cairn(t, home, "ls", dir); r.code != 1 || !strings.Contains(r.stderr, "library default: library.db is not a SQLite database") {
		t.Errorf("ls with a non-SQLite library.db: exit %d, %q", r.code, r.stderr)
	}
}

// TestLibraryListSizes: library list shows each library's database and sidecar sizes.
func TestLibraryListSizes(t *testing.T) {
	home := t.TempDir()
	must(t, home, "library", "create", "a")
	sc := filepath.Join(home, "libraries", "a.cairn", "sidecars", "ab", "cd", "x", "thumb", "256.jpg")
	writeFile(t, sc, make([]byte, 3000))
	type info struct {
		Name         string
		DBBytes      int64 `json:"db_bytes"`
		SidecarBytes int64 `json:"sidecar_bytes"`
		SidecarFiles int64 `json:"sidecar_files"`
	}
	libs := jsonLines[info](t, must(t, home, "library", "list", "--json"))
	if len(libs) != 1 || libs[0].DBBytes == 0 || libs[0].SidecarBytes != 3000 || libs[0].SidecarFiles != 1 {
		t.Fatalf("library list --json: %+v", libs)
	}
	text := must(t, home, "library", "list")
	lines := strings.Split(strings.TrimSpace(text), "\n")
	if len(lines) != 2 || !regexp.MustCompile(`^NAME +DATABASE +SIDECARS +PATH$`).MatchString(lines[0]) ||
		!regexp.MustCompile(`^a +\d+(\.\d)? [KM]?i?B +2\.9 KiB +/`).MatchString(lines[1]) {
		t.Fatalf("library list:\n%s", text)
	}
}

// TestShowExtensions: show and show --json include what each extension recorded for the
// content (its stage output and metadata) and the entry, grouped by extension id. The data is
// written with the host's own writer (backend.StageData), as a pipeline run would.
func TestShowExtensions(t *testing.T) {
	home, dir := t.TempDir(), t.TempDir()
	f := filepath.Join(dir, "photo.jpg")
	writeFile(t, f, []byte("not really a jpeg, but it has a content"))
	must(t, home, "index", dir, "--no-progress")
	db, err := sql.Open("sqlite", "file:"+filepath.Join(home, "libraries", "default.cairn", "library.db")+"?_pragma=busy_timeout(5000)")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var entryID, contentID int64
	if err := db.QueryRow(`SELECT id, content_id FROM entries WHERE name = 'photo.jpg'`).Scan(&entryID, &contentID); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, apply := range []func(context.Context, *sql.Tx) error{
		backend.StageData("dev.cairn.media", "stage.media", contentID, json.RawMessage(`{"width":640,"height":480,"camera":"X100"}`)),
		backend.StageData("org.example.faces", "stage.faces", contentID, json.RawMessage(`{"faces":2}`)),
	} {
		if err := apply(ctx, tx); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := tx.Exec(`INSERT INTO user_metadata (entry_id, content_id, namespace, key, value, updated_at) VALUES (NULL, ?, 'org.example.faces', 'reviewed', 'true', 1), (?, NULL, 'org.example.notes', 'note', '"keep this copy"', 1)`, contentID, entryID); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	var j struct {
		Extensions map[string]struct {
			Stages        map[string]map[string]any
			Metadata      map[string]any
			EntryMetadata map[string]any `json:"entry_metadata"`
		}
	}
	if err := json.Unmarshal([]byte(must(t, home, "show", "--json", f)), &j); err != nil {
		t.Fatal(err)
	}
	if len(j.Extensions) != 3 || j.Extensions["dev.cairn.media"].Stages["stage.media"]["width"] != 640.0 ||
		j.Extensions["org.example.faces"].Stages["stage.faces"]["faces"] != 2.0 || j.Extensions["org.example.faces"].Metadata["reviewed"] != true ||
		j.Extensions["org.example.notes"].EntryMetadata["note"] != "keep this copy" {
		t.Fatalf("show --json extensions: %+v", j.Extensions)
	}
	text := must(t, home, "show", f)
	i := strings.Index(text, "\nextension ")
	if i < 0 {
		t.Fatalf("show prints no extension section:\n%s", text)
	}
	golden(t, "show-extensions.golden", text[i+1:])
	// A file nothing recorded anything about has no extensions key.
	g := filepath.Join(dir, "other.txt")
	writeFile(t, g, []byte("other"))
	must(t, home, "index", "--no-progress")
	if out := must(t, home, "show", "--json", g); strings.Contains(out, `"extensions"`) {
		t.Errorf("show --json of a file with no extension data: %s", out)
	}
}

// TestShowUnreadable: show on a file cairn cannot read says permission denied and names the
// path: a file it may not open (indexed, content not identified), and a file in a folder it
// may not enter (never indexed). Root ignores permissions, so as root cairn runs as nobody.
func TestShowUnreadable(t *testing.T) {
	home, dir := t.TempDir(), t.TempDir()
	locked := filepath.Join(dir, "locked.txt")
	writeFile(t, locked, []byte("unreadable bytes"))
	secret := filepath.Join(dir, "secret")
	hidden := filepath.Join(secret, "hidden.txt")
	writeFile(t, hidden, []byte("you cannot read me"))
	asUser := func(*exec.Cmd) {}
	if os.Getuid() == 0 {
		for _, p := range []string{home, dir, secret, filepath.Dir(home), filepath.Dir(dir), filepath.Dir(cairnBin)} {
			os.Chmod(p, 0o777)
		}
		os.Chmod(cairnBin, 0o755)
		asUser = func(cmd *exec.Cmd) {
			cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
		}
	}
	run := func(args ...string) result {
		cmd := exec.Command(cairnBin, append([]string{"--home", home}, args...)...)
		asUser(cmd)
		cmd.Env = append(os.Environ(), "CAIRN_LIBRARY=")
		return runCmd(t, cmd)
	}
	os.Chmod(locked, 0o000)
	os.Chmod(secret, 0o000)
	defer os.Chmod(secret, 0o755)
	if r := run("index", dir, "--no-progress"); r.code != 0 {
		t.Fatalf("index: exit %d %s", r.code, r.stderr)
	}
	r := run("show", locked)
	if r.code != 0 || !strings.Contains(r.stdout, "access:    open "+locked+": permission denied") {
		t.Errorf("show of an unopenable file: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	r = run("show", "--json", locked)
	if !strings.Contains(r.stdout, `"access_error":"open `+locked+`: permission denied"`) {
		t.Errorf("show --json of an unopenable file: %s%s", r.stdout, r.stderr)
	}
	r = run("show", hidden)
	if r.code != 1 || !strings.Contains(r.stderr, hidden+": permission denied: cairn cannot read it, so it is not indexed") {
		t.Errorf("show of a file in an unsearchable folder: exit %d %q", r.code, r.stderr)
	}
	// A readable file says nothing about access.
	os.Chmod(locked, 0o644)
	if r := run("show", locked); strings.Contains(r.stdout, "access:") {
		t.Errorf("show of a readable file mentions access:\n%s", r.stdout)
	}
}
