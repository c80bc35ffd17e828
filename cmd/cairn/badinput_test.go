package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"
)

func TestHostileBadInput(t *testing.T) {
	home := t.TempDir()
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "a.txt"), []byte("hello"))

	cases := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"path does not exist", []string{"index", filepath.Join(dir, "nope")}, 1, "no such file or directory"},
		{"library does not exist", []string{"--library", "ghost", "ls", dir}, 1, "library ghost does not exist"},
		{"no library yet", []string{"ls", dir}, 1, "no library"},
		{"unknown command", []string{"frobnicate"}, 2, "unknown command"},
		{"bad mode", []string{"location", "add", dir, "--mode", "turbo"}, 2, "unknown mode"},
		{"bad library name", []string{"library", "create", "../evil"}, 1, "invalid library name"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := cairn(t, home, tc.args...)
			if r.code != tc.code || !strings.Contains(r.stderr, tc.want) {
				t.Fatalf("exit %d, stderr %q; want exit %d mentioning %q", r.code, r.stderr, tc.code, tc.want)
			}
		})
	}

	must(t, home, "index", dir, "--no-progress")
	t.Run("not indexed path", func(t *testing.T) {
		r := cairn(t, home, "show", filepath.Join(dir, "missing.txt"))
		if r.code != 1 || !strings.Contains(r.stderr, "not indexed") {
			t.Fatalf("exit %d, %q", r.code, r.stderr)
		}
	})
	t.Run("locked library", func(t *testing.T) {
		f, err := os.OpenFile(filepath.Join(home, "libraries", "default.cairn", "library.lock"), os.O_RDWR, 0)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		if err := unix.Flock(int(f.Fd()), unix.LOCK_EX); err != nil {
			t.Fatal(err)
		}
		defer unix.Flock(int(f.Fd()), unix.LOCK_UN)
		r := cairn(t, home, "index", "--no-progress")
		if r.code != 1 || !strings.Contains(r.stderr, "in use") {
			t.Fatalf("index of a locked library: exit %d, %q", r.code, r.stderr)
		}
		// readers still work
		must(t, home, "ls", dir)
	})
	t.Run("corrupt library", func(t *testing.T) {
		h := t.TempDir()
		must(t, h, "library", "create", "c")
		db := filepath.Join(h, "libraries", "c.cairn", "library.db")
		os.WriteFile(db, bytes.Repeat([]byte("garbage!"), 1024), 0o644)
		r := cairn(t, h, "ls", dir)
		if r.code != 1 || !strings.Contains(r.stderr, "corrupt") {
			t.Fatalf("corrupt library: exit %d, %q", r.code, r.stderr)
		}
	})
}

// TestHostileAwkwardTrees: names that are not UTF-8, symlink loops, and an unreadable directory.
func TestHostileAwkwardTrees(t *testing.T) {
	home, dir := t.TempDir(), t.TempDir()
	writeFile(t, filepath.Join(dir, "caf\xe9.txt"), []byte("latin-1 name"))
	writeFile(t, filepath.Join(dir, "ok", "file.txt"), []byte("fine"))
	os.Symlink(".", filepath.Join(dir, "self"))
	os.Symlink("b", filepath.Join(dir, "a"))
	os.Symlink("a", filepath.Join(dir, "b"))
	secret := filepath.Join(dir, "secret")
	writeFile(t, filepath.Join(secret, "hidden.txt"), []byte("you cannot read me"))
	writeFile(t, filepath.Join(dir, "locked.txt"), []byte("unreadable bytes"))

	// Unreadable things need a user the permissions apply to: as root, run cairn as nobody.
	asUser := func(cmd *exec.Cmd) {}
	if os.Getuid() == 0 {
		for _, p := range []string{home, dir, filepath.Dir(dir), filepath.Dir(cairnBin)} {
			os.Chmod(p, 0o777)
		}
		filepath.Walk(dir, func(p string, info os.FileInfo, err error) error {
			if err == nil && info.Mode()&os.ModeSymlink == 0 {
				if info.IsDir() {
					os.Chmod(p, 0o777)
				} else {
					os.Chmod(p, 0o666)
				}
			}
			return nil
		})
		os.Chmod(cairnBin, 0o755)
		asUser = func(cmd *exec.Cmd) {
			cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
		}
	}
	os.Chmod(secret, 0o000)
	os.Chmod(filepath.Join(dir, "locked.txt"), 0o000)
	defer os.Chmod(secret, 0o755)
	run := func(args ...string) (string, string, int) {
		cmd := exec.Command(cairnBin, append([]string{"--home", home}, args...)...)
		asUser(cmd)
		r := runCmd(t, cmd)
		return r.stdout, r.stderr, r.code
	}
	so, se, code := run("index", dir, "--json", "--no-progress")
	if code != 0 {
		t.Fatalf("index: exit %d\n%s\n%s", code, so, se)
	}
	if !strings.Contains(so, `"skipped":2`) {
		t.Errorf("want 2 skips (unreadable dir, unreadable file): %s", so)
	}
	so, _, _ = run("ls", dir, "--recursive", "--json")
	ents := jsonLines[lsEntry](t, so)
	kinds := map[string]string{}
	for _, e := range ents {
		kinds[strings.TrimPrefix(e.Path, dir+"/")] = e.Kind
		if e.Name == "caf\ufffd.txt" && e.PathBytes == "" {
			t.Error("non-UTF-8 name listed without path_bytes")
		}
	}
	for name, kind := range map[string]string{"self": "symlink", "a": "symlink", "b": "symlink", "ok/file.txt": "file", "secret": "dir", "locked.txt": "file"} {
		if kinds[name] != kind {
			t.Errorf("%s: kind %q, want %q (all: %v)", name, kinds[name], kind, kinds)
		}
	}
	if len(ents) != 8 {
		t.Errorf("listed %d entries, want 8: %v", len(ents), kinds)
	}
	// The unreadable directory's indexed children are kept when it becomes unreadable later.
	os.Chmod(secret, 0o777)
	if _, se, code := run("index", "--no-progress"); code != 0 {
		t.Fatal(se)
	}
	so, _, _ = run("ls", secret, "--json")
	if !strings.Contains(so, "hidden.txt") {
		t.Fatal("readable again: hidden.txt not indexed")
	}
	os.Chmod(secret, 0o000)
	if _, se, code := run("index", "--no-progress"); code != 0 {
		t.Fatal(se)
	}
	so, _, _ = run("ls", secret, "--json")
	if !strings.Contains(so, "hidden.txt") {
		t.Error("an unreadable directory lost its indexed children (cannot access ≠ deleted)")
	}
}
