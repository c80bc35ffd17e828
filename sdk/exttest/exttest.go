package exttest

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/cairnfs/cairn/schemas/manifest"
	"github.com/cairnfs/cairn/sdk/cairn"
)

// Subject is what the checks run against: a manifest, a runtime for its
// module, the host that module talks to, and the items that host's /data
// mount serves.
type Subject struct {
	Manifest *manifest.Manifest
	Runtime  Runtime
	// Host observes the module's host calls; nil skips the checks that need
	// it (capabilities, and the host-side half of determinism).
	Host Host
	// Items are the fixture items (the source of default golden batches).
	Items []cairn.Item
}

// Golden is an export's result on the golden batch, for Options.Verify.
type Golden struct {
	ID       string // stage id, "sidecar.<kind>" or loader id
	Export   string // the module's function
	Items    []cairn.Item
	Output   []byte
	Outcomes []Outcome        // stages and sidecars
	Types    []cairn.FileType // loaders
	Calls    []HostCall       // the host calls the batch made
	Fake     *Fake            // the host, when it is a *Fake (inspect Fake.State)
}

// Outcome is one outcome of a stage or sidecar as the module sent it.
type Outcome struct {
	ContentUUID string          `json:"content_uuid"`
	Error       string          `json:"error,omitempty"`
	Data        json.RawMessage `json:"data,omitempty"`
}

// LoadManifest reads and validates a cairn.toml.
func LoadManifest(path string) (*manifest.Manifest, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("exttest: %w", err)
	}
	m, err := manifest.Parse(b)
	if err != nil {
		return nil, fmt.Errorf("exttest: %s: %w", path, err)
	}
	return m, nil
}

// Run builds the extension in dir (its cairn.toml and the Go package
// opts.Package, default "."), loads it in a plain Extism host with a Fake
// host and the fixture mounted at /data, and runs every check as a named
// subtest:
//
//	manifest, build, exports, and for each stage, sidecar and loader
//	<id>/golden, <id>/empty, <id>/malformed, <id>/capabilities,
//	<id>/deterministic, <id>/memory, <id>/deadline.
//
// An extension's own test is one line:
//
//	func TestConformance(t *testing.T) { exttest.Run(t, ".", exttest.Options{}) }
func Run(t *testing.T, dir string, opts Options) {
	t.Helper()
	o := opts.withDefaults()
	m := manifestCheck(t, func() (*manifest.Manifest, error) { return LoadManifest(filepath.Join(dir, manifest.FileName)) })
	module := o.Module
	if module == "" {
		module = filepath.Join(t.TempDir(), filepath.Base(m.Entry.File))
		if !t.Run("build", func(t *testing.T) {
			if err := Build(t.Context(), dir, o.Package, module); err != nil {
				t.Fatal(err)
			}
		}) {
			t.FailNow()
		}
	}
	runLoaded(t, m, module, o)
}

// RunModule runs the checks against an already built module and its
// manifest, in a plain Extism host with a Fake host.
func RunModule(t *testing.T, manifestPath, modulePath string, opts Options) {
	t.Helper()
	o := opts.withDefaults()
	m := manifestCheck(t, func() (*manifest.Manifest, error) { return LoadManifest(manifestPath) })
	runLoaded(t, m, modulePath, o)
}

// RunSubject runs the checks against any runtime and host, for hosts that
// want to prove their own runner with the same suite.
func RunSubject(t *testing.T, s Subject, opts Options) {
	t.Helper()
	o := opts.withDefaults()
	manifestCheck(t, func() (*manifest.Manifest, error) { return s.Manifest, s.Manifest.Validate() })
	runChecks(testRunner{t}, s, o)
}

func manifestCheck(t *testing.T, load func() (*manifest.Manifest, error)) *manifest.Manifest {
	t.Helper()
	var m *manifest.Manifest
	if !t.Run("manifest", func(t *testing.T) {
		var err error
		if m, err = load(); err != nil {
			t.Fatal(err)
		}
		checkManifest(t, m)
	}) {
		t.FailNow()
	}
	return m
}

func runLoaded(t *testing.T, m *manifest.Manifest, module string, o Options) {
	t.Helper()
	s, closeFn, err := Load(t.Context(), m, module, t.TempDir(), o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(closeFn)
	runChecks(testRunner{t}, s, o)
}

// Load prepares the default subject: a Fake host for m over opts.Files, the
// files content.read covers copied into workDir and mounted read-only at
// /data, and the module at modulePath compiled in an ExtismRuntime. Call
// the returned function to release it.
func Load(ctx context.Context, m *manifest.Manifest, modulePath, workDir string, opts Options) (Subject, func(), error) {
	o := opts.withDefaults()
	if m.Kind != manifest.KindWASM {
		return Subject{}, nil, fmt.Errorf("exttest: %s is a %q extension; exttest runs wasm modules", m.ID, m.Kind)
	}
	wasm, err := os.ReadFile(modulePath)
	if err != nil {
		return Subject{}, nil, fmt.Errorf("exttest: %w", err)
	}
	fake, err := NewFake(m, o)
	if err != nil {
		return Subject{}, nil, err
	}
	data := ""
	if fake.has("content.read") {
		data = filepath.Join(workDir, "data")
		if err := os.MkdirAll(data, 0o755); err != nil {
			return Subject{}, nil, err
		}
		if err := materialize(o.Files, fake.files, data, fake.Mounted); err != nil {
			return Subject{}, nil, err
		}
	}
	rt, err := NewExtismRuntime(ctx, wasm, ExtismOptions{Host: fake.Handle, DataDir: data, MaxPages: o.MaxPages,
		Probe: exportNames(m), CacheDir: o.CacheDir})
	if err != nil {
		return Subject{}, nil, err
	}
	return Subject{Manifest: m, Runtime: rt, Host: fake, Items: fake.Items()},
		func() { rt.Close(context.WithoutCancel(ctx)) }, nil
}

func exportNames(m *manifest.Manifest) []string {
	names := []string{cairn.InitExport}
	for _, s := range m.Contributes.Stages {
		names = append(names, s.Export)
	}
	for _, s := range m.Contributes.Sidecars {
		names = append(names, s.Export)
	}
	for _, l := range m.Contributes.Loaders {
		names = append(names, l.Export)
	}
	return names
}

// checkManifest: beyond manifest.Parse's validation, what an extension for this
// SDK needs (Run builds only wasm; RunSubject takes native runtimes too).
func checkManifest(r Reporter, m *manifest.Manifest) {
	r.Helper()
	if m.Kind != manifest.KindWASM && m.Kind != manifest.KindProcess {
		r.Errorf("kind %q: exttest runs wasm extensions (Run) and any runtime given to RunSubject", m.Kind)
	}
	if ok, err := m.SupportsABI(cairn.ABIVersion); err != nil || !ok {
		r.Errorf("abi %q does not admit ABI %s, which this SDK speaks", m.ABI, cairn.ABIVersion)
	}
	if m.Kind == manifest.KindWASM && !strings.HasSuffix(m.Entry.File, ".wasm") {
		r.Logf("entry.file %q: a wasm module usually ends in .wasm", m.Entry.File)
	}
	c := m.Contributes
	if len(c.Stages)+len(c.Sidecars)+len(c.Loaders)+len(c.Queries)+len(c.Agents) == 0 {
		r.Errorf("contributes: the extension contributes nothing")
	}
}

// Report is the result of Evaluate.
type Report struct {
	Checks []*CheckResult
}

// CheckResult is one check's result.
type CheckResult struct {
	Name   string
	Errors []string
	Logs   []string
}

// Failed reports whether the check reported an error.
func (c *CheckResult) Failed() bool { return len(c.Errors) > 0 }

func (c *CheckResult) Helper() {}
func (c *CheckResult) Errorf(format string, args ...any) {
	c.Errors = append(c.Errors, fmt.Sprintf(format, args...))
}
func (c *CheckResult) Logf(format string, args ...any) {
	c.Logs = append(c.Logs, fmt.Sprintf(format, args...))
}

// Failed returns the names of the checks that failed.
func (r *Report) Failed() []string {
	var out []string
	for _, c := range r.Checks {
		if c.Failed() {
			out = append(out, c.Name)
		}
	}
	return out
}

// Check returns the result of the named check, or nil.
func (r *Report) Check(name string) *CheckResult {
	for _, c := range r.Checks {
		if c.Name == name {
			return c
		}
	}
	return nil
}

// String lists every check with its errors and logs.
func (r *Report) String() string {
	var b strings.Builder
	for _, c := range r.Checks {
		status := "ok  "
		if c.Failed() {
			status = "FAIL"
		}
		fmt.Fprintf(&b, "%s %s\n", status, c.Name)
		for _, e := range c.Errors {
			fmt.Fprintf(&b, "       error: %s\n", e)
		}
		for _, l := range c.Logs {
			fmt.Fprintf(&b, "       %s\n", l)
		}
	}
	return b.String()
}

// Evaluate runs the checks without a testing.T and returns what each found
// (the manifest check included, named "manifest").
func Evaluate(ctx context.Context, s Subject, opts Options) *Report {
	o := opts.withDefaults()
	rep := &Report{}
	mc := &CheckResult{Name: "manifest"}
	rep.Checks = append(rep.Checks, mc)
	if err := s.Manifest.Validate(); err != nil {
		mc.Errorf("%v", err)
		return rep
	}
	checkManifest(mc, s.Manifest)
	if s.Runtime == nil {
		mc.Logf("no runtime: only the manifest was checked")
		return rep
	}
	runChecks(&reportRunner{rep: rep, ctx: ctx}, s, o)
	return rep
}

// runner runs named checks, nested, as subtests or into a Report.
type runner interface {
	check(name string, fn func(r Reporter))
	group(name string, fn func(runner))
	context() context.Context
}

type testRunner struct{ t *testing.T }

func (tr testRunner) check(name string, fn func(Reporter)) {
	tr.t.Run(name, func(t *testing.T) { fn(t) })
}

func (tr testRunner) group(name string, fn func(runner)) {
	tr.t.Run(name, func(t *testing.T) { fn(testRunner{t}) })
}

func (tr testRunner) context() context.Context { return tr.t.Context() }

type reportRunner struct {
	rep    *Report
	prefix string
	ctx    context.Context
}

func (rr *reportRunner) check(name string, fn func(Reporter)) {
	c := &CheckResult{Name: rr.prefix + name}
	rr.rep.Checks = append(rr.rep.Checks, c)
	fn(c)
}

func (rr *reportRunner) group(name string, fn func(runner)) {
	fn(&reportRunner{rep: rr.rep, prefix: rr.prefix + name + "/", ctx: rr.ctx})
}

func (rr *reportRunner) context() context.Context { return rr.ctx }

// skipped reports whether opts.Skip names the check.
func skipped(o Options, full, leaf string) bool {
	return slices.Contains(o.Skip, full) || slices.Contains(o.Skip, leaf)
}
