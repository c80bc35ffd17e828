package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cairnfs/cairn/internal/testtool"
)

// cairnIn runs cairn in dir with extra environment.
func cairnIn(t testing.TB, dir, home string, args ...string) result {
	t.Helper()
	cmd := exec.Command(cairnBin, append([]string{"--home", home}, args...)...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "CAIRN_LIBRARY=", "CAIRN_SOURCE="+repoRoot(t))
	return runCmd(t, cmd)
}

func mustIn(t testing.TB, dir, home string, args ...string) string {
	t.Helper()
	r := cairnIn(t, dir, home, args...)
	if r.code != 0 {
		t.Fatalf("cairn %s: exit %d\n%s\n%s", strings.Join(args, " "), r.code, r.stdout, r.stderr)
	}
	return r.stdout
}

// TestExtRunThirdPartyPlugin: `cairn ext run` calls Extism's own count_vowels.wasm (shipped in
// the go-sdk module) and prints what go-sdk's test expects.
func TestExtRunThirdPartyPlugin(t *testing.T) {
	out, err := exec.Command("go", "env", "GOMODCACHE").Output()
	must2(t, err)
	cv := filepath.Join(strings.TrimSpace(string(out)), "github.com", "extism", "go-sdk@v1.7.1", "wasm", "count_vowels.wasm")
	if _, err := os.Stat(cv); err != nil {
		if testtool.InCI() {
			t.Fatalf("count_vowels.wasm not in the module cache (CI=true: go test downloads the go-sdk module): %v", err)
		}
		t.Skipf("count_vowels.wasm not in the module cache: %v", err)
	}
	home := t.TempDir()
	got := strings.TrimSpace(must(t, home, "ext", "run", cv, "count_vowels", "--input", "Hello, World!"))
	if got != `{"count":3,"total":3,"vowels":"aeiouAEIOU"}` {
		t.Fatalf("count_vowels output %s", got)
	}
	if r := cairn(t, home, "ext", "run", cv, "nope"); r.code != 1 || !strings.Contains(r.stderr, "count_vowels") {
		t.Fatalf("missing export: exit %d %q", r.code, r.stderr)
	}
}

// TestExtScaffoldFlow: ext new → build → test → install, as the scaffold's README says.
func TestExtScaffoldFlow(t *testing.T) {
	if testing.Short() {
		t.Skip("compiles WASM")
	}
	home, work := t.TempDir(), t.TempDir()
	mustIn(t, work, home, "ext", "new", "hello")
	dir := filepath.Join(work, "hello")
	if b, err := os.ReadFile(filepath.Join(dir, "README.md")); err != nil || !strings.Contains(string(b), "cairn ext build") {
		t.Fatalf("scaffold README missing or says nothing about building: %v", err)
	}
	// go.mod names no path on this machine; the checkout ($CAIRN_SOURCE) is used through go.work.
	if b, err := os.ReadFile(filepath.Join(dir, "go.mod")); err != nil || strings.Contains(string(b), repoRoot(t)) || strings.Contains(string(b), "replace") {
		t.Fatalf("go.mod names a local path (%v):\n%s", err, b)
	}
	if b, err := os.ReadFile(filepath.Join(dir, "go.work")); err != nil || !strings.Contains(string(b), repoRoot(t)) {
		t.Fatalf("go.work does not use $CAIRN_SOURCE (%v):\n%s", err, b)
	}
	mustIn(t, dir, home, "ext", "build")
	mustIn(t, dir, home, "ext", "test")
	out := mustIn(t, dir, home, "ext", "install", ".", "--yes")
	if !strings.Contains(out, "requests content.read") || !strings.Contains(out, "installed dev.example.hello 0.1.0") {
		t.Fatalf("install output:\n%s", out)
	}
	list := jsonLines[struct {
		ID      string
		Granted []string
	}](t, mustIn(t, dir, home, "ext", "list", "--json"))
	if len(list) != 1 || list[0].ID != "dev.example.hello" || len(list[0].Granted) != 2 {
		t.Fatalf("ext list: %+v", list)
	}
}

// newExt scaffolds an extension and rewrites its manifest header.
func newExt(t *testing.T, work, home, name, id, version, caps, deps string) string {
	t.Helper()
	mustIn(t, work, home, "ext", "new", name)
	dir := filepath.Join(work, name)
	p := filepath.Join(dir, "cairn.toml")
	b, err := os.ReadFile(p)
	must2(t, err)
	s := strings.Replace(string(b), `id = "dev.example.`+name+`"`, `id = "`+id+`"`, 1)
	s = strings.Replace(s, `version = "0.1.0"`, `version = "`+version+`"`, 1)
	if caps != "" {
		s = strings.Replace(s, "[capabilities]\n", "[capabilities]\n"+caps+"\n", 1)
	}
	s += deps
	must2(t, os.WriteFile(p, []byte(s), 0o644))
	return dir
}

// TestRegistryInstallUpdateRemove: a registry served by `cairn registry serve` on 127.0.0.1
// installs an extension together with the one it depends on, updates it showing the capability
// diff, and removes them (the dependency only after its dependent).
func TestRegistryInstallUpdateRemove(t *testing.T) {
	if testing.Short() {
		t.Skip("compiles WASM")
	}
	home, work, reg := t.TempDir(), t.TempDir(), t.TempDir()
	publish := func(dir string) {
		t.Helper()
		var out struct{ Package string }
		must2(t, json.Unmarshal([]byte(mustIn(t, dir, home, "ext", "build", "--json")), &out))
		b, err := os.ReadFile(out.Package)
		must2(t, err)
		must2(t, os.WriteFile(filepath.Join(reg, filepath.Base(out.Package)), b, 0o644))
	}
	publish(newExt(t, work, home, "base", "dev.example.base", "1.0.0", "", ""))
	dep := "\n[[dependencies]]\nid = \"dev.example.base\"\nversion = \"^1.0\"\n"
	publish(newExt(t, work, home, "app", "dev.example.app", "1.0.0", `"kv" = {}`, dep))

	srv := exec.Command(cairnBin, "--home", home, "registry", "serve", reg, "--addr", "127.0.0.1:0", "--json")
	stdout, err := srv.StdoutPipe()
	must2(t, err)
	must2(t, srv.Start())
	defer srv.Process.Kill()
	var hello struct{ URL string }
	line, err := bufio.NewReader(stdout).ReadString('\n')
	must2(t, err)
	must2(t, json.Unmarshal([]byte(line), &hello))
	if !strings.HasPrefix(hello.URL, "http://127.0.0.1:") {
		t.Fatalf("registry url %q", hello.URL)
	}

	out := mustIn(t, work, home, "ext", "install", "dev.example.app", "--registry", hello.URL, "--yes")
	if !strings.Contains(out, "installed dev.example.base 1.0.0") || !strings.Contains(out, "installed dev.example.app 1.0.0") {
		t.Fatalf("install with dependency:\n%s", out)
	}
	// Publish 1.1.0 asking for one more capability; re-index the served folder.
	appDir := filepath.Join(work, "app")
	p := filepath.Join(appDir, "cairn.toml")
	b, _ := os.ReadFile(p)
	s := strings.Replace(string(b), `version = "1.0.0"`, `version = "1.1.0"`, 1)
	s = strings.Replace(s, `"kv" = {}`, "\"kv\" = {}\n\"events.emit\" = { types = [\"app.done\"] }", 1)
	must2(t, os.WriteFile(p, []byte(s), 0o644))
	publish(appDir)
	mustIn(t, work, home, "registry", "index", reg)
	time.Sleep(10 * time.Millisecond)
	out = mustIn(t, work, home, "ext", "update", "dev.example.app", "--registry", hello.URL)
	if !strings.Contains(out, "update dev.example.app 1.0.0 → 1.1.0") || !strings.Contains(out, "+ events.emit") {
		t.Fatalf("update did not show the capability diff:\n%s", out)
	}
	g := jsonLines[struct {
		ID, Version string
		Granted     []string
	}](t, mustIn(t, work, home, "ext", "list", "--json"))
	for _, x := range g {
		if x.ID == "dev.example.app" && (x.Version != "1.1.0" || strings.Contains(strings.Join(x.Granted, ","), "events.emit")) {
			t.Fatalf("after update: %+v (a new capability must not be granted silently)", x)
		}
	}
	if r := cairnIn(t, work, home, "ext", "remove", "dev.example.base"); r.code == 0 || !strings.Contains(r.stderr, "dev.example.app") {
		t.Fatalf("removing a dependency of an installed extension: exit %d %q", r.code, r.stderr)
	}
	mustIn(t, work, home, "ext", "remove", "dev.example.app")
	mustIn(t, work, home, "ext", "remove", "dev.example.base")
	if out := mustIn(t, work, home, "ext", "list", "--json"); strings.TrimSpace(out) != "" {
		t.Fatalf("after removes: %s", out)
	}
	// Install from a package URL.
	out = mustIn(t, work, home, "ext", "install", strings.TrimSuffix(hello.URL, "/")+"/dev.example.base-1.0.0.cairnpkg", "--yes")
	if !strings.Contains(out, "installed dev.example.base 1.0.0") {
		t.Fatalf("install from a URL:\n%s", out)
	}
}

// TestHostileInstallTamperedPackage: a package whose module was changed after signing is
// refused at install, before anything runs.
func TestHostileInstallTamperedPackage(t *testing.T) {
	if testing.Short() {
		t.Skip("compiles WASM")
	}
	home, work := t.TempDir(), t.TempDir()
	dir := newExt(t, work, home, "tamper", "dev.example.tamper", "1.0.0", "", "")
	var out struct{ Package string }
	must2(t, json.Unmarshal([]byte(mustIn(t, dir, home, "ext", "build", "--json")), &out))
	b, err := os.ReadFile(out.Package)
	must2(t, err)
	b[len(b)/2] ^= 0xff // inside the module member
	bad := filepath.Join(work, "bad.cairnpkg")
	must2(t, os.WriteFile(bad, b, 0o644))
	r := cairnIn(t, work, home, "ext", "install", bad, "--yes")
	if r.code == 0 || !(strings.Contains(r.stderr, "hash") || strings.Contains(r.stderr, "corrupt") || strings.Contains(r.stderr, "signature")) {
		t.Fatalf("tampered package: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if out := mustIn(t, work, home, "ext", "list", "--json"); strings.TrimSpace(out) != "" {
		t.Fatalf("something was installed: %s", out)
	}
}

// TestExtRunMissingHostFunctions: a plugin importing host functions cairn does not provide is
// refused with every one of them named (the SDK's countvowels example imports
// extism:host/user.cairn_test_transform; Extism's host_multiple.wasm two others); with
// --stub-missing, count_vowels (which never calls it) runs, and echo_host (which does) fails
// naming the function.
func TestExtRunMissingHostFunctions(t *testing.T) {
	cv := filepath.Join(t.TempDir(), "countvowels.wasm")
	build := exec.Command("go", "build", "-buildmode=c-shared", "-trimpath", "-o", cv, "./sdk/examples/countvowels")
	build.Dir = repoRoot(t)
	build.Env = append(os.Environ(), "GOOS=wasip1", "GOARCH=wasm", "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("building countvowels: %v\n%s", err, out)
	}
	home := t.TempDir()
	r := cairn(t, home, "ext", "run", cv, "count_vowels", "--input", "Hello, World!")
	if r.code != 1 || !strings.Contains(r.stderr, "extism:host/user.cairn_test_transform") || !strings.Contains(r.stderr, "--stub-missing") ||
		strings.Contains(r.stderr, "not instantiated") {
		t.Fatalf("run without the host function: exit %d\n%s", r.code, r.stderr)
	}
	got := strings.TrimSpace(must(t, home, "ext", "run", "--stub-missing", cv, "count_vowels", "--input", "Hello, World!"))
	if got != `{"count":3,"total":3,"vowels":"aeiouAEIOU"}` {
		t.Fatalf("count_vowels with stubs: %s", got)
	}
	r = cairn(t, home, "ext", "run", "--stub-missing", cv, "echo_host", "--input", "abc")
	if r.code != 1 || !strings.Contains(r.stderr, "extism:host/user.cairn_test_transform") || !strings.Contains(r.stderr, "not provided") {
		t.Fatalf("echo_host through a stub: exit %d\n%s", r.code, r.stderr)
	}

	out, err := exec.Command("go", "env", "GOMODCACHE").Output()
	must2(t, err)
	hm := filepath.Join(strings.TrimSpace(string(out)), "github.com", "extism", "go-sdk@v1.7.1", "wasm", "host_multiple.wasm")
	if _, err := os.Stat(hm); err != nil {
		if testtool.InCI() {
			t.Fatalf("host_multiple.wasm not in the module cache (CI=true: go test downloads the go-sdk module): %v", err)
		}
		t.Skipf("host_multiple.wasm not in the module cache: %v", err)
	}
	r = cairn(t, home, "ext", "run", hm, "say_green")
	if r.code != 1 || !strings.Contains(r.stderr, "extism:host/user.hostGreenMessage, extism:host/user.hostPurpleMessage") {
		t.Fatalf("host_multiple: exit %d\n%s", r.code, r.stderr)
	}
}

// TestExtInstallSameVersion: installing an edited extension whose version was not bumped says
// to bump it (or to pass --force), leaving the installed one; the same package again is "already
// installed"; --force replaces it.
func TestExtInstallSameVersion(t *testing.T) {
	if testing.Short() {
		t.Skip("compiles WASM")
	}
	home, work := t.TempDir(), t.TempDir()
	mustIn(t, work, home, "ext", "new", "hello")
	dir := filepath.Join(work, "hello")
	mustIn(t, dir, home, "ext", "install", ".", "--yes")
	installed := func() []byte {
		list := jsonLines[struct{ Path string }](t, mustIn(t, dir, home, "ext", "list", "--json"))
		if len(list) != 1 {
			t.Fatalf("ext list: %+v", list)
		}
		b, err := os.ReadFile(filepath.Join(list[0].Path, "hello.wasm"))
		must2(t, err)
		return b
	}
	first := installed()
	if out := mustIn(t, dir, home, "ext", "install", ".", "--yes"); !strings.Contains(out, "already installed (the same package)") {
		t.Fatalf("reinstalling the same package:\n%s", out)
	}
	main := filepath.Join(dir, "main.go")
	b, err := os.ReadFile(main)
	must2(t, err)
	must2(t, os.WriteFile(main, []byte(strings.Replace(string(b), `"lines", lines`, `"line_count", lines`, 1)), 0o644))

	r := cairnIn(t, dir, home, "ext", "install", ".", "--yes")
	if r.code == 0 || !strings.Contains(r.stderr, "bump the version") || !strings.Contains(r.stderr, "--force") {
		t.Fatalf("installing an edited build at the same version: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	if !bytes.Equal(installed(), first) {
		t.Fatal("the refused install changed the installed module")
	}
	out := mustIn(t, dir, home, "ext", "install", ".", "--yes", "--force")
	if !strings.Contains(out, "replace dev.example.hello 0.1.0") {
		t.Fatalf("install --force:\n%s", out)
	}
	built, err := os.ReadFile(filepath.Join(dir, "hello.wasm"))
	must2(t, err)
	if now := installed(); bytes.Equal(now, first) || !bytes.Equal(now, built) {
		t.Fatal("install --force did not install the edited module")
	}
}

// TestHostileExtRunOutput: `cairn ext run` prints at most --max-output (default 1 MiB) of a
// plugin's output and fails beyond it; it used to print whatever the plugin answered.
func TestHostileExtRunOutput(t *testing.T) {
	guest := filepath.Join(t.TempDir(), "hostile.wasm")
	build := exec.Command("go", "build", "-buildmode=c-shared", "-trimpath", "-o", guest, "./host/testdata/guests/hostile")
	build.Dir = repoRoot(t)
	build.Env = append(os.Environ(), "GOOS=wasip1", "GOARCH=wasm", "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("building the hostile guest: %v\n%s", err, out)
	}
	home := t.TempDir()
	r := cairn(t, home, "ext", "run", guest, "bigoutput", "--input", "20000000")
	if r.code != 1 || len(r.stdout) != 0 || !strings.Contains(r.stderr, "output too large: 20000000 bytes, limit 1048576") ||
		!strings.Contains(r.stderr, "--max-output") {
		t.Fatalf("20 MB output: exit %d, %d bytes printed, %q", r.code, len(r.stdout), r.stderr)
	}
	if out := must(t, home, "ext", "run", "--max-output", "2MiB", guest, "bigoutput", "--input", "2000000"); len(out) != 2000001 {
		t.Errorf("2 MB under --max-output 2MiB: %d bytes printed", len(out))
	}
	if r := cairn(t, home, "ext", "run", "--max-output", "lots", guest, "noop"); r.code != 2 || !strings.Contains(r.stderr, "--max-output") {
		t.Errorf("--max-output lots: exit %d %q", r.code, r.stderr)
	}
}
