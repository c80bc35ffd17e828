package extstore

import (
	"crypto/ed25519"
	"errors"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/cairnfs/cairn/registry/cairnpkg"
)

// TestHostileInstallStore: attacks on the install store.
func TestHostileInstallStore(t *testing.T) {
	// The id pattern admits "installed.json"; its folder replaced the state file and every
	// later command failed with "is a directory".
	t.Run("reserved-id", func(t *testing.T) {
		f := newFixture(t)
		f.install(a1)
		_, err := f.s.Install(f.v(ext{id: "installed.json", version: "1.0.0", caps: "kv = {}"}), nil)
		if !errors.Is(err, ErrReservedID) {
			t.Fatalf("installing id installed.json: %v; want ErrReservedID", err)
		}
		list, err := f.s.List()
		if err != nil || len(list) != 1 || list[0].ID != a1.id {
			t.Fatalf("the store after the attempt: %v, %v", list, err)
		}
		f.noLeftovers()
	})
	// kill -9 during an install left its staging folder forever (277 MB after 12 kills).
	t.Run("killed-install-leaks-nothing", func(t *testing.T) {
		f := newFixture(t)
		cmd := exec.Command(os.Args[0], "-test.run=^TestStageAndHang$")
		cmd.Env = append(os.Environ(), "EXTSTORE_STAGE_AND_HANG="+f.s.Dir)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		deadline := time.Now().Add(2 * time.Minute)
		for len(stages(t, f.s.Dir)) == 0 {
			if time.Now().After(deadline) {
				cmd.Process.Kill()
				t.Fatal("the child did not stage an install")
			}
			time.Sleep(10 * time.Millisecond)
		}
		// A live transaction's folder is left alone.
		f.s.Begin().Abort()
		if len(stages(t, f.s.Dir)) != 1 {
			t.Fatal("the staging folder of a live process was removed")
		}
		cmd.Process.Kill() // SIGKILL: no deferred cleanup runs
		cmd.Wait()
		f.install(a1) // any later transaction sweeps what dead ones left
		if left := stages(t, f.s.Dir); len(left) != 0 {
			t.Fatalf("staging folders of a killed install remain: %v", left)
		}
	})
}

func stages(t *testing.T, dir string) []string {
	ents, _ := os.ReadDir(dir)
	var out []string
	for _, e := range ents {
		if strings.HasPrefix(e.Name(), stagePrefix) {
			out = append(out, e.Name())
		}
	}
	return out
}

// TestStageAndHang is the child of killed-install-leaks-nothing: it stages an install and
// waits to be killed.
func TestStageAndHang(t *testing.T) {
	dir := os.Getenv("EXTSTORE_STAGE_AND_HANG")
	if dir == "" {
		return // only the child process of TestHostileInstallStore; returning (not skipping) keeps the skip count honest
	}
	f := newFixture(t)
	f.s.Dir = dir
	if _, err := f.s.Begin().Install(f.v(a2), nil); err != nil {
		t.Fatal(err)
	}
	time.Sleep(time.Hour)
}

// TestHostileUpdate: a registry (or a publisher) that tries to change what an installed
// extension is through `ext update`.
func TestHostileUpdate(t *testing.T) {
	// Issue 13 item 4: a registry that dropped 2.0.0 got `ext update` to install 1.0.0.
	t.Run("rollback-to-older-version", func(t *testing.T) {
		f := newFixture(t)
		f.install(a2, "kv")
		old := f.v(a1)
		if _, err := f.s.Diff(old); !errors.Is(err, ErrDowngrade) {
			t.Fatalf("diff to an older version: %v; want ErrDowngrade", err)
		}
		if _, err := f.s.Update(old, nil); !errors.Is(err, ErrDowngrade) {
			t.Fatalf("update to an older version: %v; want ErrDowngrade", err)
		}
		if in, _ := f.s.Get(a1.id); in.Version != "2.0.0" {
			t.Fatalf("installed after a refused downgrade: %s", in.Version)
		}
		f.noLeftovers()
		// Explicit consent rolls back, and says so.
		txn := f.s.Begin()
		defer txn.Abort()
		c, err := txn.UpdateWith(old, nil, UpdateOptions{AllowDowngrade: true})
		if err != nil || !c.Downgrade {
			t.Fatalf("allowed downgrade: %+v, %v", c, err)
		}
		if err := txn.Commit(); err != nil {
			t.Fatal(err)
		}
		if in, _ := f.s.Get(a1.id); in.Version != "1.0.0" {
			t.Fatalf("after an allowed downgrade: %s", in.Version)
		}
	})
	// Issue 13 item 5: another publisher whose key the user trusts (for its own extensions)
	// published a new version of someone else's id; the update was accepted, the old grants
	// carried over, and nothing showed that the signer changed.
	t.Run("trusted-other-publisher-takes-over-id", func(t *testing.T) {
		f := newFixture(t)
		f.install(a1, "kv", "net")
		_, other, _ := cairnpkg.GenerateKey()
		f.trust.Trust(other.Public().(ed25519.PublicKey)) // trusted, for its own extensions
		v, _ := build(t, ext{id: a1.id, version: "1.1.0", caps: a1.caps, exports: a1.exports}, other, f.trust)
		if !v.KeyTrusted {
			t.Fatal("fixture: the other key should be trusted")
		}
		_, err := f.s.Update(v, nil)
		if !errors.Is(err, ErrKeyChanged) {
			t.Fatalf("update of an id by another trusted publisher: %v; want ErrKeyChanged", err)
		}
		for _, want := range []string{f.v(a1).KeyID, v.KeyID, cairnpkg.Fingerprint(v.Signature.PublicKey), cairnpkg.Fingerprint(f.key.Public().(ed25519.PublicKey))} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("the refusal does not name %s: %v", want, err)
			}
		}
		if in, _ := f.s.Get(a1.id); in.Version != "1.0.0" || in.KeyID != f.v(a1).KeyID {
			t.Fatalf("installed after the refusal: %+v", in)
		}
		// Accepted explicitly: nothing granted carries over.
		txn := f.s.Begin()
		defer txn.Abort()
		if _, err := txn.UpdateWith(v, nil, UpdateOptions{AcceptNewKey: true}); err != nil {
			t.Fatal(err)
		}
		if err := txn.Commit(); err != nil {
			t.Fatal(err)
		}
		in, _ := f.s.Get(a1.id)
		if in.KeyID != v.KeyID || len(in.Grants) != 0 {
			t.Fatalf("after accepting the new key: key %s grants %v; want %s and no grants", in.KeyID, in.Grants, v.KeyID)
		}
		// From now on the id is bound to the new key: the first publisher is the stranger.
		if _, err := f.s.Update(f.v(ext{id: a1.id, version: "1.2.0", caps: a1.caps, exports: a1.exports}), nil); !errors.Is(err, ErrKeyChanged) {
			t.Fatalf("update by the first key after the change: %v; want ErrKeyChanged", err)
		}
	})
}
