package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
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
	if b3, err := exec.LookPath("b3sum"); err == nil {
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
