package extstore

import (
	"bytes"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cairnfs/cairn/registry/cairnpkg"
)

type ext struct {
	id, version string
	caps        string // TOML lines of the [capabilities] table
	deps        string // TOML [[dependencies]] blocks
	exports     string // TOML array body
	edit        string // appended to the module's bytes (an edited build of the same version)
}

// build packs e with key and verifies it (unknown keys allowed unless trust holds the key);
// data is the package file, which backs the returned Verified.
func build(t *testing.T, e ext, key ed25519.PrivateKey, trust cairnpkg.TrustStore) (*cairnpkg.Verified, []byte) {
	t.Helper()
	dir := t.TempDir()
	toml := fmt.Sprintf("id = %q\nname = \"X\"\nversion = %q\nabi = \"^1.0\"\nkind = \"wasm\"\nexports = [%s]\n\n[entry]\nfile = \"mod.wasm\"\n\n[capabilities]\n%s\n%s",
		e.id, e.version, e.exports, e.caps, e.deps)
	if err := os.WriteFile(filepath.Join(dir, "cairn.toml"), []byte(toml), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "mod.wasm"), []byte("module of "+e.id+"@"+e.version+e.edit), 0o644); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if _, err := cairnpkg.Pack(dir, key, &buf); err != nil {
		t.Fatal(err)
	}
	data := buf.Bytes()
	p, err := cairnpkg.Open(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	v, err := cairnpkg.Verify(p, trust, cairnpkg.VerifyOptions{HostABI: "1.0", AllowUnknownKey: true})
	if err != nil {
		t.Fatal(err)
	}
	return v, data
}

func dep(id, rng string) string {
	return fmt.Sprintf("[[dependencies]]\nid = %q\nversion = %q\n", id, rng)
}

type fixture struct {
	t     *testing.T
	s     *Store
	key   ed25519.PrivateKey
	trust cairnpkg.KeySet
}

func newFixture(t *testing.T) *fixture {
	_, key, err := cairnpkg.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	trust := cairnpkg.KeySet{}
	trust.Trust(key.Public().(ed25519.PublicKey))
	return &fixture{t: t, s: &Store{Dir: filepath.Join(t.TempDir(), "extensions")}, key: key, trust: trust}
}

func (f *fixture) v(e ext) *cairnpkg.Verified {
	v, _ := build(f.t, e, f.key, f.trust)
	return v
}

func (f *fixture) install(e ext, grants ...string) {
	f.t.Helper()
	if _, err := f.s.Install(f.v(e), grants); err != nil {
		f.t.Fatalf("installing %s@%s: %v", e.id, e.version, err)
	}
}

// noLeftovers checks no staging folder remains.
func (f *fixture) noLeftovers() {
	f.t.Helper()
	ents, _ := os.ReadDir(f.s.Dir)
	for _, e := range ents {
		if strings.HasPrefix(e.Name(), stagePrefix) {
			f.t.Fatalf("staging folder left behind: %s", e.Name())
		}
	}
}

var (
	a1 = ext{id: "dev.a.b", version: "1.0.0", caps: "kv = {}\nnet = { hosts = [\"a.org\"] }", exports: `"dev.a.b/api@1"`}
	a2 = ext{id: "dev.a.b", version: "2.0.0", caps: "kv = {}\nnet = { hosts = [\"a.org\", \"b.org\"] }\n\"tags.write\" = {}"}
	x1 = ext{id: "dev.x.y", version: "1.0.0", caps: "kv = {}", deps: dep("dev.a.b", "^1")}
	x2 = ext{id: "dev.x.y", version: "2.0.0", caps: "kv = {}", deps: dep("dev.a.b", "^2")}
)

func TestInstallListGet(t *testing.T) {
	f := newFixture(t)
	v := f.v(a1)
	c, err := f.s.Install(v, []string{"kv", "net", "tags.write"}) // tags.write: not requested, dropped
	if err != nil {
		t.Fatal(err)
	}
	if c.From != "" || c.To != "1.0.0" || strings.Join(c.Added, ",") != "kv,net" || strings.Join(c.Grants, ",") != "kv,net" {
		t.Fatalf("change = %+v", c)
	}
	f.noLeftovers()

	in, err := f.s.Get("dev.a.b")
	if err != nil {
		t.Fatal(err)
	}
	if in.Version != "1.0.0" || in.KeyID != v.KeyID || strings.Join(in.Grants, ",") != "kv,net" || in.InstalledAt.IsZero() {
		t.Fatalf("installed = %+v", in)
	}
	if got, _ := os.ReadFile(filepath.Join(in.Path, "cairn.toml")); !bytes.Equal(got, v.ManifestBytes) {
		t.Fatal("installed manifest differs from the signed bytes")
	}
	if got, _ := os.ReadFile(in.ModulePath()); string(got) != "module of dev.a.b@1.0.0" {
		t.Fatalf("module = %q", got)
	}
	sigData, err := os.ReadFile(filepath.Join(in.Path, "signature.json"))
	if err != nil {
		t.Fatal(err)
	}
	var sig cairnpkg.Signature
	if err := json.Unmarshal(sigData, &sig); err != nil || !ed25519.Verify(sig.PublicKey, v.ManifestBytes, sig.Signature) {
		t.Fatalf("stored signature does not verify (%v)", err)
	}
	if in.Path != filepath.Join(f.s.Dir, "dev.a.b", "1.0.0") {
		t.Fatalf("path = %s", in.Path)
	}

	f.install(x1)
	list, err := f.s.List()
	if err != nil || len(list) != 2 || list[0].ID != "dev.a.b" || list[1].ID != "dev.x.y" {
		t.Fatalf("list = %+v, %v", list, err)
	}
	if vs, _ := f.s.Versions(); vs["dev.a.b"] != "1.0.0" || vs["dev.x.y"] != "1.0.0" {
		t.Fatalf("versions = %v", vs)
	}
	if _, err := f.s.Get("dev.nope.nope"); !errors.Is(err, ErrNotInstalled) {
		t.Fatalf("Get(absent) = %v", err)
	}
	// installed.json is versioned JSON.
	data, _ := os.ReadFile(filepath.Join(f.s.Dir, StateFile))
	var st state
	if err := json.Unmarshal(data, &st); err != nil || st.Format != StateFormat || st.Extensions["dev.x.y"].Version != "1.0.0" {
		t.Fatalf("installed.json = %s (%v)", data, err)
	}
}

func TestInstallRefuses(t *testing.T) {
	f := newFixture(t)
	if _, err := f.s.Install(f.v(x1), nil); !errors.Is(err, ErrMissingDependency) || !strings.Contains(err.Error(), "dev.a.b ^1 (not installed)") {
		t.Fatalf("without its dependency: %v", err)
	}
	f.install(a2)
	if _, err := f.s.Install(f.v(x1), nil); !errors.Is(err, ErrMissingDependency) || !strings.Contains(err.Error(), "installed: 2.0.0") {
		t.Fatalf("with the wrong dependency version: %v", err)
	}
	if _, err := f.s.Install(f.v(a1), nil); !errors.Is(err, ErrAlreadyInstalled) {
		t.Fatalf("reinstall: %v", err)
	}
	if _, err := f.s.Install(f.v(ext{id: "dev.k.k", version: "1.0.0", caps: "kv = {}"}), []string{"kv", "teleport"}); err == nil || !strings.Contains(err.Error(), `unknown capability "teleport"`) {
		t.Fatalf("unknown capability: %v", err)
	}
	contract := ext{id: "dev.c.c", version: "1.0.0", deps: "[[dependencies]]\nid = \"dev.a.b\"\nversion = \">=1\"\ncontract = \"dev.a.b/api@1\"\n"}
	if _, err := f.s.Install(f.v(contract), nil); !errors.Is(err, ErrMissingDependency) || !strings.Contains(err.Error(), "exporting dev.a.b/api@1") {
		t.Fatalf("contract not exported: %v", err)
	}
	if vs, _ := f.s.Versions(); len(vs) != 1 {
		t.Fatalf("refused installs changed the store: %v", vs)
	}
	f.noLeftovers()
}

func TestUpdateDiff(t *testing.T) {
	f := newFixture(t)
	f.install(a1, "kv", "net")
	v2 := f.v(a2)

	c, err := f.s.Diff(v2)
	if err != nil {
		t.Fatal(err)
	}
	got := fmt.Sprintf("%s->%s added=%v removed=%v changed=%v grants=%v", c.From, c.To, c.Added, c.Removed, c.Changed, c.Grants)
	if want := "1.0.0->2.0.0 added=[tags.write] removed=[] changed=[net] grants=[kv]"; got != want {
		t.Fatalf("diff: %s, want %s", got, want)
	}
	if in, _ := f.s.Get("dev.a.b"); in.Version != "1.0.0" {
		t.Fatal("Diff changed the store")
	}

	// The user approves the widened net scope, not tags.write.
	c, err = f.s.Update(v2, []string{"net"})
	if err != nil {
		t.Fatal(err)
	}
	in, _ := f.s.Get("dev.a.b")
	if in.Version != "2.0.0" || strings.Join(in.Grants, ",") != "kv,net" || strings.Join(c.Grants, ",") != "kv,net" {
		t.Fatalf("after update: %+v", in)
	}
	if _, err := os.Stat(filepath.Join(f.s.Dir, "dev.a.b", "1.0.0")); !os.IsNotExist(err) {
		t.Fatal("old version folder remains")
	}
	f.noLeftovers()

	// A capability dropped by the new version is dropped from the grants.
	a3 := ext{id: "dev.a.b", version: "3.0.0", caps: "net = { hosts = [\"a.org\", \"b.org\"] }"}
	c, err = f.s.Update(f.v(a3), nil)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(c.Removed, ",") != "kv,tags.write" || strings.Join(c.Grants, ",") != "net" {
		t.Fatalf("change = %+v", c)
	}

	if _, err := f.s.Update(f.v(a3), nil); !errors.Is(err, ErrAlreadyInstalled) {
		t.Fatalf("same version: %v", err)
	}
	if _, err := f.s.Update(f.v(x1), nil); !errors.Is(err, ErrNotInstalled) {
		t.Fatalf("not installed: %v", err)
	}
}

func TestUpdateKeyChanged(t *testing.T) {
	f := newFixture(t)
	f.install(a1, "kv")
	_, other, _ := cairnpkg.GenerateKey()
	v, _ := build(t, ext{id: "dev.a.b", version: "1.1.0", caps: a1.caps, exports: a1.exports}, other, f.trust) // unknown key, allowed
	if _, err := f.s.Update(v, nil); !errors.Is(err, ErrKeyChanged) {
		t.Fatalf("update signed by an unknown other key: %v", err)
	}
	// Accepted explicitly: the id is bound to the new key, the grants start again from nothing.
	c, err := f.s.Begin().UpdateWith(v, nil, UpdateOptions{AcceptNewKey: true})
	if err != nil {
		t.Fatal(err)
	}
	if !c.KeyChanged || c.OldKey.ID != f.v(a1).KeyID || c.NewKey.ID != v.KeyID || c.OldKey.Fingerprint == "" || c.NewKey.Fingerprint == c.OldKey.Fingerprint || len(c.Grants) != 0 {
		t.Fatalf("change with a new key: %+v", c)
	}
}

func TestDependents(t *testing.T) {
	f := newFixture(t)
	f.install(a1)
	f.install(x1)

	if _, err := f.s.Update(f.v(a2), nil); !errors.Is(err, ErrHasDependents) || !strings.Contains(err.Error(), "dev.x.y@1.0.0 needs dev.a.b ^1") {
		t.Fatalf("update breaking a dependent: %v", err)
	}
	if in, _ := f.s.Get("dev.a.b"); in.Version != "1.0.0" {
		t.Fatal("refused update changed the store")
	}
	f.noLeftovers()

	// Together, in one transaction, both move to 2.x.
	tx := f.s.Begin()
	defer tx.Abort()
	if _, err := tx.Update(f.v(a2), nil); err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Update(f.v(x2), nil); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	vs, _ := f.s.Versions()
	if vs["dev.a.b"] != "2.0.0" || vs["dev.x.y"] != "2.0.0" {
		t.Fatalf("versions = %v", vs)
	}
	f.noLeftovers()

	if err := f.s.Remove("dev.a.b", false); !errors.Is(err, ErrHasDependents) || !strings.Contains(err.Error(), "dev.x.y@2.0.0 (needs ^2)") {
		t.Fatalf("remove with dependents: %v", err)
	}
	if err := f.s.Remove("dev.x.y", false); err != nil {
		t.Fatal(err)
	}
	if err := f.s.Remove("dev.a.b", false); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(f.s.Dir, "dev.a.b")); !os.IsNotExist(err) {
		t.Fatal("files remain after remove")
	}
	if err := f.s.Remove("dev.a.b", false); !errors.Is(err, ErrNotInstalled) {
		t.Fatalf("remove twice: %v", err)
	}

	// Forced removal leaves the dependent installed.
	f.install(a1)
	f.install(x1)
	if err := f.s.Remove("dev.a.b", true); err != nil {
		t.Fatal(err)
	}
	if vs, _ := f.s.Versions(); len(vs) != 1 || vs["dev.x.y"] != "1.0.0" {
		t.Fatalf("after forced remove: %v", vs)
	}
}

func TestTxnInstallsDependenciesTogether(t *testing.T) {
	f := newFixture(t)
	tx := f.s.Begin()
	defer tx.Abort()
	// Order does not matter inside a transaction: the final set is what is checked.
	if _, err := tx.Install(f.v(x1), []string{"kv"}); err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Install(f.v(a1), nil); err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Install(f.v(a1), nil); err == nil {
		t.Fatal("the same extension twice in one transaction")
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(); err == nil {
		t.Fatal("second Commit succeeded")
	}

	// An aborted transaction leaves nothing behind.
	tx = f.s.Begin()
	if _, err := tx.Install(f.v(ext{id: "dev.z.z", version: "1.0.0"}), nil); err != nil {
		t.Fatal(err)
	}
	tx.Abort()
	f.noLeftovers()
	if _, err := f.s.Get("dev.z.z"); !errors.Is(err, ErrNotInstalled) {
		t.Fatalf("aborted install is visible: %v", err)
	}
}

func TestGrants(t *testing.T) {
	f := newFixture(t)
	f.install(a1)
	g, err := f.s.Grants("dev.a.b")
	if err != nil || len(g) != 0 {
		t.Fatalf("initial grants = %v, %v", g, err)
	}
	if err := f.s.Grant("dev.a.b", "tags.write"); !errors.Is(err, ErrNotRequested) || !strings.Contains(err.Error(), "kv, net") {
		t.Fatalf("grant not requested: %v", err)
	}
	if err := f.s.Revoke("dev.a.b", "tags.write"); !errors.Is(err, ErrNotRequested) {
		t.Fatalf("revoke not requested: %v", err)
	}
	if err := f.s.Grant("dev.a.b", "net"); err != nil {
		t.Fatal(err)
	}
	if err := f.s.Grant("dev.a.b", "net"); err != nil { // idempotent
		t.Fatal(err)
	}
	if g, _ := f.s.Grants("dev.a.b"); strings.Join(g, ",") != "net" {
		t.Fatalf("grants = %v", g)
	}
	if err := f.s.SetGrants("dev.a.b", []string{"kv", "net", "media.decode"}); err != nil {
		t.Fatal(err)
	}
	if g, _ := f.s.Grants("dev.a.b"); strings.Join(g, ",") != "kv,net" {
		t.Fatalf("grants = %v (want requested ∩ granted)", g)
	}
	if err := f.s.SetGrants("dev.a.b", []string{"knv"}); err == nil {
		t.Fatal("SetGrants accepted an unknown capability name")
	}
	if err := f.s.Revoke("dev.a.b", "kv"); err != nil {
		t.Fatal(err)
	}
	if g, _ := f.s.Grants("dev.a.b"); strings.Join(g, ",") != "net" {
		t.Fatalf("grants = %v", g)
	}
	if err := f.s.Grant("dev.nope.nope", "kv"); !errors.Is(err, ErrNotInstalled) {
		t.Fatalf("grant to absent: %v", err)
	}
}

// TestModuleChangedAfterVerify: the package file changes between Verify and Install; the
// install store re-checks the module hash while copying and refuses.
func TestModuleChangedAfterVerify(t *testing.T) {
	f := newFixture(t)
	v, data := build(t, a1, f.key, f.trust)
	i := bytes.Index(data, []byte("module of dev.a.b"))
	data[i] = 'M'
	if _, err := f.s.Install(v, nil); !errors.Is(err, cairnpkg.ErrHashMismatch) {
		t.Fatalf("err = %v, want ErrHashMismatch", err)
	}
	f.noLeftovers()
	if _, err := f.s.Get("dev.a.b"); !errors.Is(err, ErrNotInstalled) {
		t.Fatalf("refused install is visible: %v", err)
	}
}

func TestCrashLeftovers(t *testing.T) {
	f := newFixture(t)
	// A crash after the rename but before installed.json: a folder nobody lists.
	stale := filepath.Join(f.s.Dir, "dev.a.b", "1.0.0")
	if err := os.MkdirAll(stale, 0o755); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(stale, "junk"), []byte("x"), 0o644)
	os.MkdirAll(filepath.Join(f.s.Dir, stagePrefix+"dev.q.q-1.0.0-123"), 0o755)
	os.MkdirAll(filepath.Join(f.s.Dir, "dev.gone.gone", "0.1.0"), 0o755)

	f.install(a1) // replaces the stale folder
	if _, err := os.Stat(filepath.Join(stale, "junk")); !os.IsNotExist(err) {
		t.Fatal("stale folder content survived the install")
	}
	os.MkdirAll(filepath.Join(f.s.Dir, "dev.a.b", "0.9.0"), 0o755)
	if err := f.s.Clean(); err != nil {
		t.Fatal(err)
	}
	ents, _ := os.ReadDir(f.s.Dir)
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	if strings.Join(names, ",") != "dev.a.b,installed.json" {
		t.Fatalf("after Clean: %v", names)
	}
	vers, _ := os.ReadDir(filepath.Join(f.s.Dir, "dev.a.b"))
	if len(vers) != 1 || vers[0].Name() != "1.0.0" {
		t.Fatalf("versions after Clean: %v", vers)
	}
}

// TestSameVersion: the installed package again is ErrAlreadyInstalled; another build at the same
// version is ErrSameVersionDiffers, naming both module hashes; Replace installs it in place of
// the installed one, keeping the grants, and leaves nothing behind.
func TestSameVersion(t *testing.T) {
	f := newFixture(t)
	f.install(a1, "kv")
	if _, err := f.s.Update(f.v(a1), nil); !errors.Is(err, ErrAlreadyInstalled) || errors.Is(err, ErrSameVersionDiffers) {
		t.Fatalf("the same package: %v", err)
	}
	edited := a1
	edited.edit = " (edited)"
	v := f.v(edited)
	_, err := f.s.Update(v, nil)
	if !errors.Is(err, ErrSameVersionDiffers) || !strings.Contains(err.Error(), v.Manifest.Entry.BLAKE3[:16]) {
		t.Fatalf("an edited package at the same version: %v", err)
	}
	before, _ := f.s.Get("dev.a.b")
	c, err := f.s.Replace(v, nil)
	if err != nil {
		t.Fatal(err)
	}
	in, _ := f.s.Get("dev.a.b")
	got, err := os.ReadFile(in.ModulePath())
	if err != nil || string(got) != "module of dev.a.b@1.0.0 (edited)" || in.Version != "1.0.0" {
		t.Fatalf("after replace: %q %v %+v", got, err, in)
	}
	if strings.Join(in.Grants, ",") != strings.Join(before.Grants, ",") || c.From != "1.0.0" || c.To != "1.0.0" {
		t.Fatalf("grants %v → %v, change %+v", before.Grants, in.Grants, c)
	}
	f.noLeftovers()
}

// TestReplaceInterrupted: a process killed during a Replace's commit, after moving the installed
// version aside, leaves it under a staging name; the next transaction moves it back.
func TestReplaceInterrupted(t *testing.T) {
	f := newFixture(t)
	f.install(a1, "kv")
	target := filepath.Join(f.s.Dir, "dev.a.b", "1.0.0")
	aside := filepath.Join(f.s.Dir, stagePrefix+"999999999-dev.a.b-1.0.0-123"+replacedSuffix) // no such process
	if err := os.Rename(target, aside); err != nil {
		t.Fatal(err)
	}
	f.install(x1)
	in, err := f.s.Get("dev.a.b")
	if err != nil {
		t.Fatal(err)
	}
	if got, err := os.ReadFile(in.ModulePath()); err != nil || string(got) != "module of dev.a.b@1.0.0" {
		t.Fatalf("after the interrupted replace: %q %v", got, err)
	}
	f.noLeftovers()
}
