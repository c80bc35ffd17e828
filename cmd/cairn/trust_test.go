package main

import (
	"crypto/ed25519"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cairnfs/cairn/registry/cairnpkg"
)

// packExt packs a small extension signed by key into dir (no compiler: the installer checks
// signatures, hashes and manifests; it does not run the module) and returns the file.
func packExt(t *testing.T, dir string, key ed25519.PrivateKey, id, version, kind string) string {
	t.Helper()
	src := t.TempDir()
	entry, module := "m.wasm", []byte("\x00asm\x01\x00\x00\x00"+id+version)
	if kind == "process" {
		entry, module = "run.sh", []byte("#!/bin/sh\necho "+id+version+"\n")
	}
	toml := fmt.Sprintf("id = %q\nname = \"T\"\nversion = %q\nabi = \"^1.0\"\nkind = %q\n\n[entry]\nfile = %q\n\n[capabilities]\nkv = {}\n",
		id, version, kind, entry)
	writeFile(t, filepath.Join(src, "cairn.toml"), []byte(toml))
	writeFile(t, filepath.Join(src, entry), module)
	out := filepath.Join(dir, id+"-"+version+cairnpkg.Ext)
	if _, err := cairnpkg.PackFile(src, key, out); err != nil {
		t.Fatal(err)
	}
	return out
}

func genKey(t *testing.T) ed25519.PrivateKey {
	t.Helper()
	_, k, err := cairnpkg.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// userHome is a fresh data directory with its keys folder (before this fix `--trust` did not
// save the keyring without one, which would hide the attacks below from the old code).
func userHome(t *testing.T) string {
	h := t.TempDir()
	if err := os.MkdirAll(filepath.Join(h, "keys"), 0o700); err != nil {
		t.Fatal(err)
	}
	return h
}

type listed struct {
	ID, Version, KeyID string
	Granted            []string
	Native             bool
}

func listExt(t *testing.T, home string) map[string]listed {
	t.Helper()
	out := map[string]listed{}
	for _, x := range jsonLines[struct {
		ID, Version string
		KeyID       string `json:"key_id"`
		Granted     []string
		Native      *bool
	}](t, must(t, home, "ext", "list", "--json")) {
		if x.Native == nil {
			t.Fatalf("ext list --json: %s has no native field", x.ID)
		}
		out[x.ID] = listed{ID: x.ID, Version: x.Version, KeyID: x.KeyID, Granted: x.Granted, Native: *x.Native}
	}
	return out
}

// TestHostileExtTrust: issue 13 items 4, 5 and 6 through the CLI, against a registry folder
// whose index is signed by `cairn registry index` in the publisher's home.
func TestHostileExtTrust(t *testing.T) {
	// Item 4: a registry that dropped 2.0.0 got `ext update` to install 1.0.0 ("update 2.0.0 →
	// 1.0.0", rc 0). And a replayed older index is refused outright.
	t.Run("update-rollback", func(t *testing.T) {
		pub, user, reg := t.TempDir(), userHome(t), t.TempDir()
		key := genKey(t)
		packExt(t, reg, key, "dev.t.roll", "1.0.0", "wasm")
		v2 := packExt(t, reg, key, "dev.t.roll", "2.0.0", "wasm")
		must(t, pub, "registry", "index", reg)
		first := cairn(t, user, "ext", "install", "dev.t.roll", "--registry", reg, "--trust", "--yes")
		if first.code != 0 || !strings.Contains(first.stdout, "installed dev.t.roll 2.0.0") {
			t.Fatalf("install: exit %d\n%s\n%s", first.code, first.stdout, first.stderr)
		}
		signedV1, _ := os.ReadFile(filepath.Join(reg, "index.json"))
		os.Remove(v2)
		must(t, pub, "registry", "index", reg) // a signed, newer index without 2.0.0
		r := cairn(t, user, "ext", "update", "dev.t.roll", "--registry", reg)
		want := "the registry no longer lists 2.0.0; the newest it offers is 1.0.0, older than what is installed: refusing to downgrade (--allow-downgrade)"
		if r.code == 0 || !strings.Contains(r.stderr, want) || strings.Contains(r.stdout, "→ 1.0.0") {
			t.Fatalf("update to an older release: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
		}
		if got := listExt(t, user)["dev.t.roll"]; got.Version != "2.0.0" {
			t.Fatalf("installed after the refusal: %+v", got)
		}
		// The registry's key was pinned at the first install, and shown.
		if !strings.Contains(first.stderr, "trusting its index key") {
			t.Fatalf("first use of a signed registry does not show its key:\n%s", first.stderr)
		}
		// The index the user saw before (version 1), replayed, is now a rollback.
		signedV2, _ := os.ReadFile(filepath.Join(reg, "index.json"))
		writeFile(t, filepath.Join(reg, "index.json"), signedV1)
		if r := cairn(t, user, "ext", "update", "dev.t.roll", "--registry", reg); r.code == 0 || !strings.Contains(r.stderr, "rollback") {
			t.Fatalf("a replayed older index: exit %d\n%s", r.code, r.stderr)
		}
		writeFile(t, filepath.Join(reg, "index.json"), signedV2) // the replay is over
		must(t, pub, "registry", "sign", reg)                    // re-signed at the next version
		// Explicit consent rolls back, and says it is a downgrade.
		out := must(t, user, "ext", "update", "dev.t.roll", "--registry", reg, "--allow-downgrade")
		if !strings.Contains(out, "downgrade dev.t.roll 2.0.0 → 1.0.0") {
			t.Fatalf("allowed downgrade:\n%s", out)
		}
	})
	// A registry re-keyed by someone else: refused when the key was pinned ahead, until forgotten.
	t.Run("registry-key-pinned-ahead", func(t *testing.T) {
		pub, user, reg := t.TempDir(), userHome(t), t.TempDir()
		packExt(t, reg, genKey(t), "dev.t.pin", "1.0.0", "wasm")
		must(t, pub, "registry", "index", reg) // creates pub's registry key and registry.key.pub
		other := t.TempDir()
		must(t, other, "registry", "index", reg) // now signed by someone else's key
		must(t, user, "registry", "trust", reg, filepath.Join(pub, "keys", "registry.key.pub"))
		r := cairn(t, user, "ext", "install", "dev.t.pin", "--registry", reg, "--trust")
		if r.code == 0 || !strings.Contains(r.stderr, "index key changed") {
			t.Fatalf("an index signed by another key than the pinned one: exit %d\n%s", r.code, r.stderr)
		}
		must(t, user, "registry", "forget", reg)
		r = cairn(t, user, "ext", "install", "dev.t.pin", "--registry", reg, "--trust")
		if r.code != 0 || !strings.Contains(r.stderr, "trusting its index key") {
			t.Fatalf("after forget: exit %d\n%s", r.code, r.stderr)
		}
	})
	// Item 5: a second publisher the user trusts (for its own extension) publishes a new
	// version of the first one's id: refused; accepted only with --accept-new-key, which shows
	// both keys and resets the grants.
	t.Run("update-key-change", func(t *testing.T) {
		pub, user, reg := t.TempDir(), userHome(t), t.TempDir()
		alice, mallory := genKey(t), genKey(t)
		packExt(t, reg, alice, "dev.t.alice", "1.0.0", "wasm")
		packExt(t, reg, mallory, "dev.t.mallory", "1.0.0", "wasm")
		must(t, pub, "registry", "index", reg)
		must(t, user, "ext", "install", "dev.t.alice", "--registry", reg, "--trust", "--yes")
		must(t, user, "ext", "install", "dev.t.mallory", "--registry", reg, "--trust", "--yes") // mallory's key is now trusted too
		packExt(t, reg, mallory, "dev.t.alice", "1.1.0", "wasm")
		must(t, pub, "registry", "index", reg)
		r := cairn(t, user, "ext", "update", "dev.t.alice", "--registry", reg, "--yes")
		aliceID, malloryID := cairnpkg.KeyID(alice.Public().(ed25519.PublicKey)), cairnpkg.KeyID(mallory.Public().(ed25519.PublicKey))
		if r.code == 0 || !strings.Contains(r.stderr, "publisher key changed") || !strings.Contains(r.stderr, aliceID) || !strings.Contains(r.stderr, malloryID) ||
			!strings.Contains(r.stderr, cairnpkg.Fingerprint(mallory.Public().(ed25519.PublicKey))) || !strings.Contains(r.stderr, "--accept-new-key") {
			t.Fatalf("update signed by another trusted publisher: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
		}
		if got := listExt(t, user)["dev.t.alice"]; got.Version != "1.0.0" || got.KeyID != aliceID || len(got.Granted) != 1 {
			t.Fatalf("installed after the refusal: %+v", got)
		}
		out := must(t, user, "ext", "update", "dev.t.alice", "--registry", reg, "--accept-new-key")
		for _, w := range []string{"PUBLISHER KEY CHANGED", "old key " + aliceID, "new key " + malloryID, cairnpkg.Fingerprint(alice.Public().(ed25519.PublicKey)), "grants are reset"} {
			if !strings.Contains(out, w) {
				t.Fatalf("accepted key change does not show %q:\n%s", w, out)
			}
		}
		if got := listExt(t, user)["dev.t.alice"]; got.Version != "1.1.0" || got.KeyID != malloryID || len(got.Granted) != 0 {
			t.Fatalf("after accepting the new key: %+v; want no grants carried over", got)
		}
	})
	// Item 6: a kind = "process" package installed with "granted: -" and no warning.
	t.Run("native-needs-consent", func(t *testing.T) {
		user, reg := userHome(t), t.TempDir()
		key := genKey(t)
		pkg := packExt(t, reg, key, "dev.t.native", "1.0.0", "process")
		r := cairn(t, user, "ext", "install", pkg, "--trust", "--yes")
		if r.code == 0 || !strings.Contains(r.stdout, "native code: runs outside the WASM sandbox, with your user's rights") || !strings.Contains(r.stderr, "--allow-native") {
			t.Fatalf("native install without consent: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
		}
		if len(listExt(t, user)) != 0 {
			t.Fatal("a refused native extension was installed")
		}
		out := must(t, user, "ext", "install", pkg, "--trust", "--yes", "--allow-native")
		if !strings.Contains(out, "native code") {
			t.Fatalf("native install:\n%s", out)
		}
		if got := listExt(t, user)["dev.t.native"]; !got.Native {
			t.Fatalf("ext list --json: %+v; want native: true", got)
		}
		if out := must(t, user, "ext", "list"); !strings.Contains(out, "NATIVE") {
			t.Fatalf("ext list does not show the native extension as such:\n%s", out)
		}
		// An update to a native version needs the consent again.
		packExt(t, reg, key, "dev.t.native", "1.1.0", "process")
		os.Remove(pkg)
		must(t, user, "registry", "index", reg, "--unsigned")
		r = cairn(t, user, "ext", "update", "dev.t.native", "--registry", reg)
		if r.code == 0 || !strings.Contains(r.stderr, "--allow-native") || !strings.Contains(r.stderr, "warning: the index") {
			t.Fatalf("native update without consent: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
		}
		must(t, user, "ext", "update", "dev.t.native", "--registry", reg, "--allow-native")
		if got := listExt(t, user)["dev.t.native"]; got.Version != "1.1.0" || !got.Native {
			t.Fatalf("after a consented native update: %+v", got)
		}
	})
}

// TestInstallTrustSavesKeyring: `--trust` saves the publisher's key even in a data directory
// without a keys folder yet (it used to fail silently, so the next update found the key
// unknown).
func TestInstallTrustSavesKeyring(t *testing.T) {
	user, reg := t.TempDir(), t.TempDir()
	key := genKey(t)
	packExt(t, reg, key, "dev.t.kr", "1.0.0", "wasm")
	must(t, user, "registry", "index", reg, "--unsigned")
	must(t, user, "ext", "install", "dev.t.kr", "--registry", reg, "--trust")
	b, err := os.ReadFile(filepath.Join(user, "keys", "trusted.json"))
	if err != nil || !strings.Contains(string(b), cairnpkg.KeyID(key.Public().(ed25519.PublicKey))) {
		t.Fatalf("keyring after --trust: %v\n%s", err, b)
	}
}
