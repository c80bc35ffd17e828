package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cairnfs/cairn/internal/testtool"
)

// TestDeepModeAndVerify: deep mode runs the integrity stage (full BLAKE3, equal to b3sum's);
// verify records then checks hashes, and catches a byte flipped with size and mtime unchanged.
func TestDeepModeAndVerify(t *testing.T) {
	home, dir := t.TempDir(), t.TempDir()
	big := make([]byte, 3<<20)
	for i := range big {
		big[i] = byte(i * 31)
	}
	writeFile(t, filepath.Join(dir, "big.bin"), big)
	writeFile(t, filepath.Join(dir, "small.txt"), []byte("small"))
	s := indexJSON(t, home, dir, "--mode", "deep")
	if s.Hashed != 2 {
		t.Fatalf("deep index: %+v", s)
	}
	var show struct {
		IntegrityHash *string `json:"integrity_hash"`
		IntegrityAlgo string  `json:"integrity_algo"`
		CasAlgo       string  `json:"cas_algo"`
	}
	must2(t, json.Unmarshal([]byte(must(t, home, "show", filepath.Join(dir, "big.bin"), "--json")), &show))
	if show.IntegrityHash == nil || show.IntegrityAlgo != "blake3-full" || show.CasAlgo != "sampled-v1" {
		t.Fatalf("deep mode did not record the integrity hash: %+v", show)
	}
	if b3, ok := testtool.Optional(t, "b3sum", "b3sum"); ok {
		out, err := exec.Command(b3, "--no-names", filepath.Join(dir, "big.bin")).Output()
		must2(t, err)
		if strings.TrimSpace(string(out)) != *show.IntegrityHash {
			t.Fatalf("integrity hash %s, b3sum says %s", *show.IntegrityHash, out)
		}
	}
	// A second deep run does nothing: the ledger has the stage at its version.
	if again := indexJSON(t, home, dir); again.RunHashed != 0 || strings.Contains(must(t, home, "jobs", "list", "--all", "--json"), `"state":"failed"`) {
		t.Fatalf("second deep run: %+v", again)
	}
	out := must(t, home, "verify", dir, "--json")
	if !strings.Contains(out, `"problems":0`) {
		t.Fatalf("verify of an untouched tree: %s", out)
	}
	// Flip one byte in the middle (outside the sampled regions), keep size and mtime.
	p := filepath.Join(dir, "big.bin")
	st, _ := os.Stat(p)
	f, err := os.OpenFile(p, os.O_WRONLY, 0)
	must2(t, err)
	f.WriteAt([]byte{^big[200000]}, 200000)
	f.Close()
	must2(t, os.Chtimes(p, time.Now(), st.ModTime()))
	r := cairn(t, home, "verify", dir, "--json")
	if r.code != 1 || !strings.Contains(r.stdout, `"status":"mismatch"`) || !strings.Contains(r.stdout, "big.bin") {
		t.Fatalf("verify after bit rot: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
}

// TestVerifyCorruptionVersusEdit: bytes that changed under an unchanged size and mtime are a
// mismatch (possible corruption, exit 1), wherever the change is (in the sampled regions of the
// content id or not); a file whose size or mtime changed was edited ("modified", exit 0 alone).
func TestVerifyCorruptionVersusEdit(t *testing.T) {
	home, dir := t.TempDir(), t.TempDir()
	big := make([]byte, 3<<20)
	for i := range big {
		big[i] = byte(i * 7)
	}
	writeFile(t, filepath.Join(dir, "big.bin"), big)
	for _, n := range []string{"rot.txt", "grown.txt", "touched.txt", "fine.txt"} {
		writeFile(t, filepath.Join(dir, n), []byte("hello "+n))
	}
	indexJSON(t, home, dir)
	if out := must(t, home, "verify", dir, "--json"); !strings.Contains(out, `"recorded":5`) {
		t.Fatalf("first verify: %s", out)
	}
	// Rewrite bytes and put the mtime back: big.bin at its first byte (a sampled region of its
	// content id), rot.txt entirely (same length).
	rewrite := func(name string, at int64, b []byte, keepMtime bool) {
		p := filepath.Join(dir, name)
		st, err := os.Stat(p)
		must2(t, err)
		f, err := os.OpenFile(p, os.O_WRONLY, 0)
		must2(t, err)
		_, err = f.WriteAt(b, at)
		must2(t, err)
		must2(t, f.Close())
		mtime := st.ModTime()
		if !keepMtime {
			mtime = mtime.Add(-time.Hour)
		}
		must2(t, os.Chtimes(p, time.Now(), mtime))
	}
	rewrite("big.bin", 0, []byte{^big[0]}, true)
	rewrite("rot.txt", 0, []byte("HELLO rot.txt"), true)
	rewrite("grown.txt", 0, []byte("hello grown.txt, longer now"), true) // size changed
	rewrite("touched.txt", 0, []byte("HELLO touched"), false)            // same size, mtime changed

	r := cairn(t, home, "verify", dir, "--json")
	if r.code != 1 {
		t.Fatalf("verify with corrupt files: exit %d, want 1\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	type row struct {
		Path, Status, Reason string
		Summary              bool
		Files, OK, Modified  int64
		Mismatches, Problems int64
	}
	got := map[string]row{}
	var sum row
	for _, l := range jsonLines[row](t, r.stdout) {
		if l.Summary {
			sum = l
			continue
		}
		got[filepath.Base(l.Path)] = l
	}
	for name, want := range map[string]string{"big.bin": "mismatch", "rot.txt": "mismatch", "grown.txt": "modified", "touched.txt": "modified"} {
		g := got[name]
		if g.Status != want {
			t.Errorf("%s: status %q, want %q (%+v)", name, g.Status, want, g)
		}
		if want == "mismatch" && !strings.Contains(g.Reason, "possible corruption") ||
			want == "modified" && !strings.Contains(g.Reason, "modified since recorded") {
			t.Errorf("%s: reason %q", name, g.Reason)
		}
	}
	if _, ok := got["fine.txt"]; ok || sum.Files != 5 || sum.OK != 1 || sum.Modified != 2 || sum.Mismatches != 2 || sum.Problems != 2 {
		t.Errorf("summary %+v, rows %+v", sum, got)
	}
	text := cairn(t, home, "verify", dir)
	if !strings.Contains(text.stdout, "possible corruption: content changed but size and mtime did not") ||
		!strings.Contains(text.stdout, "modified since recorded") {
		t.Errorf("verify text:\n%s", text.stdout)
	}
	// Edits alone are no failed check.
	if r := cairn(t, home, "verify", filepath.Join(dir, "grown.txt")); r.code != 0 || !strings.Contains(r.stdout, "modified") {
		t.Errorf("verify of an edited file: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
}
