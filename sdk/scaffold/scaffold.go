package scaffold

import (
	"bufio"
	"bytes"
	"embed"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"runtime/debug"
	"strings"
	"text/template"

	"github.com/cairnfs/cairn/schemas/manifest"
)

// ModulePath is the Go module path of Cairn, which generated projects
// require.
const ModulePath = "github.com/cairnfs/cairn"

// EnvSource names a Cairn checkout for generated projects to build against
// (through a go.work file), overriding the search described at FindCairn.
const EnvSource = "CAIRN_SOURCE"

//go:embed templates
var templates embed.FS

// files maps each generated file to its template.
var files = []struct{ name, tmpl string }{
	{manifest.FileName, "cairn.toml.tmpl"},
	{"main.go", "main.go.tmpl"},
	{"ext_test.go", "ext_test.go.tmpl"},
	{"README.md", "README.md.tmpl"},
	{".gitignore", "gitignore.tmpl"},
}

// Options configure GenerateWith.
type Options struct {
	// CairnDir is a Cairn checkout (its go.mod says module
	// github.com/cairnfs/cairn) the project builds against through a go.work
	// file. Default: $CAIRN_SOURCE, else none when Version is a release,
	// else FindCairn().
	CairnDir string
	// Version is the version of github.com/cairnfs/cairn the project's
	// go.mod requires. Default: the version of Cairn in this binary's build
	// information (BuildVersion).
	Version string
	// Module is the new project's Go module path (default
	// "example.com/<name>").
	Module string
}

// placeholderVersion is required when there is no usable version: the
// go.work replace supplies the code.
const placeholderVersion = "v0.0.0-00010101000000-000000000000"

var nameRE = regexp.MustCompile(`^[a-z][a-z0-9]*(-[a-z0-9]+)*$`)

// Generate writes a new extension project named name into dir (created if
// missing; it must be empty): a manifest with the id dev.example.<name> and a
// stage stage.<name>, main.go built on sdk/cairn, ext_test.go running the
// conformance suite, a README, and a go.mod that requires
// github.com/cairnfs/cairn at a version, with no path on this machine in it.
// Where the code of that requirement comes from:
//
//   - a developer's checkout ($CAIRN_SOURCE, or FindCairn when this binary
//     has no released version): a go.work file (listed in .gitignore, never
//     committed) replaces the requirement with the checkout, and Cairn's
//     go.sum is copied, so the project builds at once;
//   - otherwise (a released cairn binary and no checkout) the module proxy:
//     `go mod tidy` fetches it and writes go.sum.
//
// Then, in dir,
//
//	GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -o <name>.wasm .
//	go test ./...
//
// work.
func Generate(dir, name string) error { return GenerateWith(dir, name, Options{}) }

// GenerateWith is Generate with options.
func GenerateWith(dir, name string, o Options) error {
	if !nameRE.MatchString(name) {
		return fmt.Errorf("scaffold: name %q: want lowercase letters and digits, words joined by '-' (e.g. hello or word-count)", name)
	}
	if o.Version == "" {
		o.Version = BuildVersion()
	}
	if o.CairnDir == "" {
		o.CairnDir = os.Getenv(EnvSource)
	}
	if o.CairnDir == "" && !isRelease(o.Version) {
		d, err := FindCairn()
		switch {
		case err == nil:
			o.CairnDir = d
		case o.Version == "":
			return fmt.Errorf("%w (this cairn binary has no module version to require instead)", err)
		}
	}
	var cairnDir string
	var gomod, gosum []byte
	goVersion := strings.TrimPrefix(runtime.Version(), "go")
	if o.CairnDir != "" {
		var err error
		if cairnDir, err = filepath.Abs(o.CairnDir); err != nil {
			return fmt.Errorf("scaffold: %w", err)
		}
		if gomod, err = os.ReadFile(filepath.Join(cairnDir, "go.mod")); err != nil {
			return fmt.Errorf("scaffold: read Cairn's go.mod: %w", err)
		}
		if modulePath(gomod) != ModulePath {
			return fmt.Errorf("scaffold: %s is not a Cairn checkout (its go.mod is not module %s)", cairnDir, ModulePath)
		}
		gosum, err = os.ReadFile(filepath.Join(cairnDir, "go.sum"))
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("scaffold: read Cairn's go.sum: %w", err)
		}
		if v, _ := parseGoMod(gomod); v != "" {
			goVersion = v
		}
		if !isRelease(o.Version) {
			o.Version = placeholderVersion // the checkout is not that version; go.work supplies it
		}
	}
	if o.Module == "" {
		o.Module = "example.com/" + name
	}

	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("scaffold: %w", err)
	}
	if entries, err := os.ReadDir(dir); err != nil {
		return fmt.Errorf("scaffold: %w", err)
	} else if len(entries) > 0 {
		return fmt.Errorf("scaffold: %s is not empty", dir)
	}

	data := struct {
		Name, ID, StageID, Export, GoFunc, Version string
		Workspace                                  bool
	}{
		Name:      name,
		ID:        "dev.example." + name,
		StageID:   "stage." + name,
		Export:    "stage_" + strings.ReplaceAll(name, "-", "_"),
		GoFunc:    "stage" + camel(name),
		Version:   o.Version,
		Workspace: cairnDir != "",
	}
	out := map[string][]byte{}
	for _, f := range files {
		t, err := template.ParseFS(templates, "templates/"+f.tmpl)
		if err != nil {
			return fmt.Errorf("scaffold: template %s: %w", f.tmpl, err)
		}
		var b bytes.Buffer
		if err := t.Execute(&b, data); err != nil {
			return fmt.Errorf("scaffold: template %s: %w", f.tmpl, err)
		}
		out[f.name] = b.Bytes()
	}
	if _, err := manifest.Parse(out[manifest.FileName]); err != nil {
		return fmt.Errorf("scaffold: generated manifest: %w", err) // a bug in the template
	}
	out["go.mod"] = goMod(o.Module, goVersion, o.Version, gomod)
	if cairnDir != "" {
		out["go.work"] = goWork(goVersion, cairnDir)
	}
	if len(gosum) > 0 {
		out["go.sum"] = gosum
	}
	for name, b := range out {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			return fmt.Errorf("scaffold: %w", err)
		}
	}
	return nil
}

// BuildVersion is the version of github.com/cairnfs/cairn this binary was
// built from, as its build information records it ("" when it records none:
// "(devel)", or a build without module information).
func BuildVersion() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return ""
	}
	v := ""
	if bi.Main.Path == ModulePath {
		v = bi.Main.Version
	}
	for _, d := range bi.Deps {
		if d.Path == ModulePath {
			v = d.Version
		}
	}
	if !semverRE.MatchString(v) {
		return "" // "(devel)", or a checkout with uncommitted changes ("+dirty"): no version has this code
	}
	return v
}

var (
	semverRE = regexp.MustCompile(`^v[0-9]+\.[0-9]+\.[0-9]+(-[0-9A-Za-z.-]+)?$`)
	pseudoRE = regexp.MustCompile(`[-.][0-9]{14}-[0-9a-f]{12}$`)
)

// isRelease reports whether v is a tagged version: not a pseudo-version of
// a commit (which may never have been pushed), nor a build with "+metadata".
func isRelease(v string) bool { return semverRE.MatchString(v) && !pseudoRE.MatchString(v) }

// goMod writes the project's go.mod: Cairn at version, and, when Cairn's own
// go.mod is known, every module Cairn requires (so that the project builds
// and tests without `go mod tidy`, with Cairn's go.sum). It holds no path on
// this machine.
func goMod(module, goVersion, version string, cairnMod []byte) []byte {
	_, reqs := parseGoMod(cairnMod)
	var b bytes.Buffer
	fmt.Fprintf(&b, "module %s\n\n", module)
	if goVersion != "" {
		fmt.Fprintf(&b, "go %s\n\n", goVersion)
	}
	fmt.Fprintf(&b, "require %s %s\n\n", ModulePath, version)
	if len(reqs) > 0 {
		b.WriteString("// Cairn's own requirements, so that go.sum (copied from Cairn) covers the build.\nrequire (\n")
		for _, r := range reqs {
			fmt.Fprintf(&b, "\t%s // indirect\n", r)
		}
		b.WriteString(")\n")
	}
	return b.Bytes()
}

// goWork writes the go.work that builds the project against the Cairn
// checkout cairnDir. It names a path on this machine, so .gitignore lists it.
func goWork(goVersion, cairnDir string) []byte {
	var b bytes.Buffer
	b.WriteString("// Builds this project against a Cairn checkout on this machine (not for\n// version control: .gitignore lists it). Without it, go.mod's requirement\n// comes from the module proxy.\n")
	if goVersion != "" {
		fmt.Fprintf(&b, "go %s\n\n", goVersion)
	}
	fmt.Fprintf(&b, "use .\n\nreplace %s => %s\n", ModulePath, quotePath(cairnDir))
	return b.Bytes()
}

// quotePath quotes a replacement path when go.mod syntax needs it.
func quotePath(p string) string {
	if strings.ContainsAny(p, " \t\"'`\\") {
		return fmt.Sprintf("%q", p)
	}
	return p
}

// parseGoMod returns the go directive and the "path version" of every
// requirement of a go.mod file.
func parseGoMod(b []byte) (goVersion string, reqs []string) {
	sc := bufio.NewScanner(bytes.NewReader(b))
	inBlock := false
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if i := strings.Index(line, "//"); i >= 0 {
			line = strings.TrimSpace(line[:i])
		}
		f := strings.Fields(line)
		switch {
		case len(f) == 0:
		case inBlock && f[0] == ")":
			inBlock = false
		case inBlock && len(f) >= 2:
			reqs = append(reqs, f[0]+" "+f[1])
		case f[0] == "go" && len(f) == 2:
			goVersion = f[1]
		case f[0] == "require" && len(f) == 2 && f[1] == "(":
			inBlock = true
		case f[0] == "require" && len(f) >= 3:
			reqs = append(reqs, f[1]+" "+f[2])
		}
	}
	return goVersion, reqs
}

func modulePath(gomod []byte) string {
	sc := bufio.NewScanner(bytes.NewReader(gomod))
	for sc.Scan() {
		if f := strings.Fields(sc.Text()); len(f) >= 2 && f[0] == "module" {
			return strings.Trim(f[1], `"`)
		}
	}
	return ""
}

// FindCairn locates a Cairn checkout for generated projects, trying in turn:
//
//  1. $CAIRN_SOURCE;
//  2. the source tree this package was compiled from (a cairn binary built
//     from a checkout without -trimpath, and every test, know it);
//  3. `go list -m -f {{.Dir}} github.com/cairnfs/cairn` in the current
//     directory (inside a checkout, or a module that requires Cairn: then the
//     module cache's copy).
//
// Each candidate must hold a go.mod for module github.com/cairnfs/cairn.
func FindCairn() (string, error) {
	var tried []string
	check := func(dir, how string) (string, bool) {
		if dir == "" {
			return "", false
		}
		abs, err := filepath.Abs(dir)
		if err == nil {
			if b, err := os.ReadFile(filepath.Join(abs, "go.mod")); err == nil && modulePath(b) == ModulePath {
				return abs, true
			}
		}
		tried = append(tried, how+" ("+dir+")")
		return "", false
	}
	if d, ok := check(os.Getenv(EnvSource), "$"+EnvSource); ok {
		return d, nil
	}
	if _, file, _, ok := runtime.Caller(0); ok && filepath.IsAbs(file) {
		// file is <checkout>/sdk/scaffold/scaffold.go
		if d, ok := check(filepath.Dir(filepath.Dir(filepath.Dir(file))), "the source this binary was built from"); ok {
			return d, nil
		}
	}
	if out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", ModulePath).Output(); err == nil {
		if d, ok := check(strings.TrimSpace(string(out)), "go list -m "+ModulePath); ok {
			return d, nil
		}
	} else {
		tried = append(tried, "go list -m "+ModulePath+" (not in a module that has it)")
	}
	return "", fmt.Errorf("scaffold: cannot find a Cairn checkout for the new project's go.mod (tried %s): set $%s to one",
		strings.Join(tried, "; "), EnvSource)
}

// camel turns "word-count" into "WordCount".
func camel(name string) string {
	var b strings.Builder
	for _, part := range strings.Split(name, "-") {
		if part != "" {
			b.WriteString(strings.ToUpper(part[:1]) + part[1:])
		}
	}
	return b.String()
}
