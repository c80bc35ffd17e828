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
	"strings"
	"text/template"

	"github.com/cairnfs/cairn/schemas/manifest"
)

// ModulePath is the Go module path of Cairn, which generated projects
// require.
const ModulePath = "github.com/cairnfs/cairn"

// EnvSource names a Cairn checkout for generated projects to use, overriding
// the search described at FindCairn.
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
	// CairnDir is the Cairn checkout the project builds against (its go.mod
	// says module github.com/cairnfs/cairn). Default: FindCairn().
	CairnDir string
	// Module is the new project's Go module path (default
	// "example.com/<name>").
	Module string
}

var nameRE = regexp.MustCompile(`^[a-z][a-z0-9]*(-[a-z0-9]+)*$`)

// Generate writes a new extension project named name into dir (created if
// missing; it must be empty): a manifest with the id dev.example.<name> and a
// stage stage.<name>, main.go built on sdk/cairn, ext_test.go running the
// conformance suite, a README, and a go.mod that requires Cairn through a
// replace directive pointing at the checkout FindCairn finds. Then, in dir,
//
//	GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -o <name>.wasm .
//	go test ./...
//
// work with only the module proxy reachable.
func Generate(dir, name string) error { return GenerateWith(dir, name, Options{}) }

// GenerateWith is Generate with options.
func GenerateWith(dir, name string, o Options) error {
	if !nameRE.MatchString(name) {
		return fmt.Errorf("scaffold: name %q: want lowercase letters and digits, words joined by '-' (e.g. hello or word-count)", name)
	}
	if o.CairnDir == "" {
		d, err := FindCairn()
		if err != nil {
			return err
		}
		o.CairnDir = d
	}
	cairnDir, err := filepath.Abs(o.CairnDir)
	if err != nil {
		return fmt.Errorf("scaffold: %w", err)
	}
	gomod, err := os.ReadFile(filepath.Join(cairnDir, "go.mod"))
	if err != nil {
		return fmt.Errorf("scaffold: read Cairn's go.mod: %w", err)
	}
	if modulePath(gomod) != ModulePath {
		return fmt.Errorf("scaffold: %s is not a Cairn checkout (its go.mod is not module %s)", cairnDir, ModulePath)
	}
	gosum, err := os.ReadFile(filepath.Join(cairnDir, "go.sum"))
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("scaffold: read Cairn's go.sum: %w", err)
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
		Name, ID, StageID, Export, GoFunc, CairnDir string
	}{
		Name:     name,
		ID:       "dev.example." + name,
		StageID:  "stage." + name,
		Export:   "stage_" + strings.ReplaceAll(name, "-", "_"),
		GoFunc:   "stage" + camel(name),
		CairnDir: cairnDir,
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
	out["go.mod"] = goMod(o.Module, gomod, cairnDir)
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

// goMod writes the project's go.mod: Cairn through a replace directive, and
// every module Cairn requires (so that the project builds and tests without
// `go mod tidy`, with Cairn's go.sum).
func goMod(module string, cairnMod []byte, cairnDir string) []byte {
	goVersion, reqs := parseGoMod(cairnMod)
	var b bytes.Buffer
	fmt.Fprintf(&b, "module %s\n\n", module)
	if goVersion != "" {
		fmt.Fprintf(&b, "go %s\n\n", goVersion)
	}
	fmt.Fprintf(&b, "require %s v0.0.0-00010101000000-000000000000\n\n", ModulePath)
	if len(reqs) > 0 {
		b.WriteString("// Cairn's own requirements, so that go.sum (copied from Cairn) covers the build.\nrequire (\n")
		for _, r := range reqs {
			fmt.Fprintf(&b, "\t%s // indirect\n", r)
		}
		b.WriteString(")\n\n")
	}
	fmt.Fprintf(&b, "// The Cairn checkout this project was generated from.\nreplace %s => %s\n", ModulePath, quotePath(cairnDir))
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
