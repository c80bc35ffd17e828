package host

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/zeebo/blake3"

	"github.com/cairnfs/cairn/core/events"
	"github.com/cairnfs/cairn/core/store"
	"github.com/cairnfs/cairn/host/abi"
	"github.com/cairnfs/cairn/host/backend"
	"github.com/cairnfs/cairn/host/capability"
	"github.com/cairnfs/cairn/host/datafs"
	"github.com/cairnfs/cairn/host/ext"
	"github.com/cairnfs/cairn/host/internal/logattr"
	"github.com/cairnfs/cairn/host/modules"
	"github.com/cairnfs/cairn/host/wasm"
	"github.com/cairnfs/cairn/schemas/manifest"
)

// Config configures a Host.
type Config struct {
	// Store is the library's database.
	Store *store.Store
	// LibraryDir is the library folder (sidecar files go below it).
	LibraryDir string
	// DeviceID is this device's row id (0: every location counts as local).
	DeviceID int64
	// Bus carries extension events (nil: events are unavailable to extensions).
	Bus *events.Bus
	// CacheDir is the compilation cache of WASM modules ("" keeps it in memory).
	CacheDir string
	// Registry receives the extensions' modules (nil: a new one).
	Registry *modules.Registry
	// Logger is the host's logger; each extension logs to it with an "extension" attribute.
	Logger *slog.Logger
	// HTTP configures the client of http.request (no proxy by default, whatever the
	// environment says).
	HTTP abi.HTTPOptions
	// Trampoline is the executable that starts native extensions in their sandbox (package
	// host/process/sandbox): a binary whose main calls sandbox.Main first, the cairn binary.
	// Empty runs them with the user's rights, and each load says so in the log.
	Trampoline string
}

// Host loads and runs extensions for one library. It is safe for concurrent use.
type Host struct {
	cfg Config
	log *slog.Logger
	rt  *wasm.Runtime
	be  *backend.Store
	d   *abi.Dispatcher
	reg *modules.Registry

	mu   sync.Mutex
	exts map[string]*Extension
}

// New starts a host.
func New(cfg Config) (*Host, error) {
	if cfg.Store == nil {
		return nil, errors.New("starting the extension host: no library store")
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	// The host names each extension's logger ("extension"), and so do host/process and host/ext
	// for callers that use them alone: keep each attribute once per line.
	log = slog.New(logattr.Once(log.Handler()))
	if cfg.Registry == nil {
		cfg.Registry = modules.New()
	}
	rt, err := wasm.NewRuntime(wasm.Config{CacheDir: cfg.CacheDir, Logger: log})
	if err != nil {
		return nil, fmt.Errorf("starting the extension host: %w", err)
	}
	be := backend.New(cfg.Store, backend.Options{LibraryDir: cfg.LibraryDir, DeviceID: cfg.DeviceID, Bus: cfg.Bus})
	areas := be.Backends()
	areas.HTTP = abi.NewHTTPClient(cfg.HTTP)
	return &Host{cfg: cfg, log: log, rt: rt, be: be, d: abi.NewDispatcher(areas, log), reg: cfg.Registry,
		exts: map[string]*Extension{}}, nil
}

// Registry is the module registry the host registers extensions' modules in.
func (h *Host) Registry() *modules.Registry { return h.reg }

// Dispatcher is the host ABI dispatcher (for the go-plugin host, which serves the same calls).
func (h *Host) Dispatcher() *abi.Dispatcher { return h.d }

// Backend is the host ABI backend on the library.
func (h *Host) Backend() *backend.Store { return h.be }

// Dispatch serves one host ABI request of the loaded extension extID (the signature a go-plugin
// host's dispatcher takes). An unknown extension gets an "unavailable" error response.
func (h *Host) Dispatch(ctx context.Context, extID string, request []byte) []byte {
	x, ok := h.Get(extID)
	if !ok {
		b, _ := json.Marshal(abi.Response{Error: abi.Errorf(abi.CodeUnavailable, "extension %s is not loaded", extID)})
		return b
	}
	return h.d.Handle(ctx, x.Caller, request)
}

// Extension is a loaded extension: the call handle (*ext.Extension) with what the host keeps
// about it.
type Extension struct {
	*ext.Extension
	Manifest *manifest.Manifest
	// Caller is the extension as the ABI dispatcher sees it (capabilities, counters).
	Caller *abi.Caller
	// Files is its /data tree (nil without content.read).
	Files *datafs.FS
	// Module is its WASM module (instance pool statistics).
	Module *wasm.Module
	// Modules are the ids it registered.
	Modules []string
}

// Limits are every limit of one extension. Zero fields take the defaults.
type Limits struct {
	// Call: deadline, output cap, faults before disabling.
	Call ext.Limits
	// WASM: memory pages and budget, pool size.
	WASM wasm.Limits
	// HostCallRate and HostCallBurst bound host calls per second (0: abi defaults; < 0: no limit).
	HostCallRate  float64
	HostCallBurst int
	// Quotas bound the audit rows, log bytes, denied calls and stored bytes of the extension
	// (zero fields: abi defaults).
	Quotas abi.Quotas
	// Outcomes bound the data of stage and sidecar outcomes (zero fields: modules defaults).
	Outcomes modules.OutcomeLimits
}

// Spec is what Load needs.
type Spec struct {
	Manifest *manifest.Manifest
	// Wasm is the module; when nil it is read from Dir/Manifest.Entry.File.
	Wasm []byte
	Dir  string
	// Grant is what the user granted.
	Grant capability.Grant
	// Config is the extension's configuration (a JSON object; {} when empty).
	Config json.RawMessage
	Limits Limits
	// Exec runs a process extension as a command other than Dir/Manifest.Entry.File: a native
	// extension built into a binary (usually the host's own, which serves it when run with
	// Exec.Args). The binary is pinned to what it is at load (its SHA-256); the manifest's
	// entry hash does not apply.
	Exec *Exec
}

// Exec is the command of a process extension built into a binary.
type Exec struct {
	Path string
	Args []string
}

// LoadDir reads dir/cairn.toml and loads the extension it describes.
func (h *Host) LoadDir(ctx context.Context, dir string, grant capability.Grant, config json.RawMessage, limits Limits) (*Extension, error) {
	b, err := os.ReadFile(filepath.Join(dir, manifest.FileName))
	if err != nil {
		return nil, fmt.Errorf("loading extension from %s: %w", dir, err)
	}
	m, err := manifest.Parse(b)
	if err != nil {
		return nil, fmt.Errorf("loading extension from %s: %w", dir, err)
	}
	return h.Load(ctx, Spec{Manifest: m, Dir: dir, Grant: grant, Config: config, Limits: limits})
}

// ErrABIMismatch is wrapped by load errors about the host ABI version.
var ErrABIMismatch = errors.New("host ABI mismatch")

// CheckABI checks that m speaks this host's ABI, naming both sides and which one is too old.
func CheckABI(m *manifest.Manifest) error {
	ok, err := m.SupportsABI(abi.Version)
	if err != nil {
		return fmt.Errorf("%w: extension %s: abi %q: %v", ErrABIMismatch, m.ID, m.ABI, err)
	}
	if ok {
		return nil
	}
	for major := 2; major <= 9; major++ { // does it want a newer host?
		if newer, _ := m.SupportsABI(fmt.Sprintf("%d.0", major)); newer {
			return fmt.Errorf("%w: extension %s needs host ABI %s; this cairn provides %s: upgrade cairn", ErrABIMismatch, m.ID, m.ABI, abi.Version)
		}
	}
	return fmt.Errorf("%w: extension %s needs host ABI %s; this cairn provides %s: upgrade the extension", ErrABIMismatch, m.ID, m.ABI, abi.Version)
}

// Load loads a WASM or native (go-plugin process) extension (see the package doc for the
// checks) and registers its modules.
func (h *Host) Load(ctx context.Context, s Spec) (*Extension, error) {
	m := s.Manifest
	if m == nil {
		return nil, errors.New("loading extension: no manifest")
	}
	if err := m.Validate(); err != nil {
		return nil, fmt.Errorf("loading extension %s: %w", m.ID, err)
	}
	if err := CheckABI(m); err != nil {
		return nil, fmt.Errorf("loading extension %s: %w", m.ID, err)
	}
	h.mu.Lock()
	_, dup := h.exts[m.ID]
	h.mu.Unlock()
	if dup {
		return nil, fmt.Errorf("loading extension %s: already loaded", m.ID)
	}
	if s.Exec != nil && m.Kind != manifest.KindProcess {
		return nil, fmt.Errorf("loading extension %s: a command (Exec) is only for process extensions", m.ID)
	}
	code := s.Wasm
	if code == nil && s.Exec == nil {
		var err error
		if code, err = os.ReadFile(filepath.Join(s.Dir, filepath.FromSlash(m.Entry.File))); err != nil {
			return nil, fmt.Errorf("loading extension %s: %w", m.ID, err)
		}
	}
	if m.Entry.BLAKE3 != "" && s.Exec == nil {
		sum := blake3.Sum256(code)
		if got := hex.EncodeToString(sum[:]); got != m.Entry.BLAKE3 {
			return nil, fmt.Errorf("loading extension %s: %s has BLAKE3 %s, the manifest pins %s", m.ID, m.Entry.File, got, m.Entry.BLAKE3)
		}
	}
	caps, err := capability.Effective(m, s.Grant)
	if err != nil {
		return nil, fmt.Errorf("loading extension %s: %w", m.ID, err)
	}
	config := s.Config
	if len(bytes.TrimSpace(config)) == 0 {
		config = json.RawMessage("{}")
	}
	var obj map[string]any
	if err := json.Unmarshal(config, &obj); err != nil || obj == nil {
		return nil, fmt.Errorf("loading extension %s: config must be a JSON object", m.ID)
	}
	if err := validateConfig(m, config); err != nil {
		return nil, fmt.Errorf("loading extension %s: %w", m.ID, err)
	}
	if _, err := h.ensureModels(ctx, m, caps); err != nil {
		return nil, fmt.Errorf("loading extension %s: %w", m.ID, err)
	}
	log := h.log.With("extension", m.ID)

	var files *datafs.FS
	if caps.Has(capability.ContentRead) {
		locs, err := h.be.Locations(ctx)
		if err != nil {
			return nil, fmt.Errorf("loading extension %s: %w", m.ID, err)
		}
		files = datafs.New(caps.Files(capability.ContentRead), locs)
	}
	caller := abi.NewCaller(caps, abi.CallerOptions{Config: config, Files: files, Logger: log,
		Rate: s.Limits.HostCallRate, Burst: s.Limits.HostCallBurst, Quotas: s.Limits.Quotas})
	if m.Kind == manifest.KindProcess {
		return h.loadProcess(ctx, s, code, caps, caller, files, config, log)
	}
	init, _ := json.Marshal(map[string]any{"abi": abi.Version, "extension": m.ID, "config": config})
	spec := wasm.ModuleSpec{
		Name:     m.ID,
		Wasm:     code,
		HostCall: func(ctx context.Context, req []byte) []byte { return h.d.Handle(ctx, caller, req) },
		Init:     init,
		Logger:   log,
		Limits:   s.Limits.WASM,
	}
	if files != nil {
		spec.Files = files
	}
	// net is served by http.request only: Extism's own http_request follows redirects anywhere
	// and cannot be bounded, so the module gets no allowed hosts and every call of it traps.
	loadCtx, cancel := context.WithTimeout(ctx, max(s.Limits.Call.Timeout, time.Minute))
	defer cancel()
	mod, err := h.rt.Load(loadCtx, spec)
	if err != nil {
		if files != nil {
			files.Close()
		}
		return nil, fmt.Errorf("loading extension %s: %w", m.ID, err)
	}
	x := &Extension{Extension: ext.New(m.ID, mod, s.Limits.Call, log), Manifest: m, Caller: caller, Files: files, Module: mod}
	x.SetMeter(caller)
	ids, err := h.reg.AddExtension(modules.Extension{Caller: x.Extension, Manifest: m, Kind: modules.WASM, Config: config,
		Paths: pathMapper(files), ApplyData: dataApplier(m, caps), Limits: s.Limits.Outcomes})
	if err != nil {
		x.Close(context.WithoutCancel(ctx))
		return nil, fmt.Errorf("loading extension %s: %w", m.ID, err)
	}
	return h.register(ctx, x, ids, caps)
}

// dataApplier stores stage outputs as metadata; the outputs of the extension's file-type stages
// (those producing "filetype") also set the content's type when it holds content.type.
func dataApplier(m *manifest.Manifest, caps *capability.Set) modules.DataApplier {
	typed := map[string]bool{}
	if caps.Has(capability.ContentType) {
		for _, st := range m.Contributes.Stages {
			if slices.Contains(st.Produces, "filetype") {
				typed[st.ID] = true
			}
		}
	}
	return func(ext, stage string, contentID int64, data json.RawMessage) func(context.Context, *sql.Tx) error {
		if typed[stage] {
			return backend.TypeStageData(ext, stage, contentID, data)
		}
		return backend.StageData(ext, stage, contentID, data)
	}
}

// register makes a loaded extension visible (Get, Dispatch) unless another Load of the same id
// won a race.
func (h *Host) register(ctx context.Context, x *Extension, ids []string, caps *capability.Set) (*Extension, error) {
	m := x.Manifest
	x.Modules = ids
	h.mu.Lock()
	if _, dup := h.exts[m.ID]; dup { // lost a race with a concurrent Load of the same id
		h.mu.Unlock()
		h.reg.RemoveExtension(m.ID)
		x.closeAll(context.WithoutCancel(ctx))
		return nil, fmt.Errorf("loading extension %s: already loaded", m.ID)
	}
	h.exts[m.ID] = x
	h.mu.Unlock()
	h.log.Info("extension loaded", "extension", m.ID, "kind", m.Kind, "version", m.Version, "capabilities", caps.Names(), "modules", ids)
	return x, nil
}

// pathMapper returns files as a modules.PathMapper, or nil (no mapping: every item path is
// empty for an extension without content.read).
func pathMapper(files *datafs.FS) modules.PathMapper {
	if files == nil {
		return noFiles{}
	}
	return files
}

type noFiles struct{}

func (noFiles) GuestPath(string) (string, bool) { return "", false }

// Enable re-enables a disabled extension; one that was over its quota of denied host calls may
// make host calls again.
func (x *Extension) Enable() {
	x.Caller.Unblock()
	x.Extension.Enable()
}

func (x *Extension) closeAll(ctx context.Context) error {
	err := x.Extension.Close(ctx)
	if x.Files != nil {
		x.Files.Close()
	}
	return err
}

// Get returns a loaded extension.
func (h *Host) Get(id string) (*Extension, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	x, ok := h.exts[id]
	return x, ok
}

// Extensions lists the loaded extensions' ids, sorted.
func (h *Host) Extensions() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	out := make([]string, 0, len(h.exts))
	for id := range h.exts {
		out = append(out, id)
	}
	sort.Strings(out)
	return out
}

// RefreshLocations gives every extension's /data tree the library's current locations (call it
// after locations are added, removed or moved).
func (h *Host) RefreshLocations(ctx context.Context) error {
	locs, err := h.be.Locations(ctx)
	if err != nil {
		return err
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, x := range h.exts {
		if x.Files != nil {
			x.Files.SetLocations(locs)
		}
	}
	return nil
}

// Unload removes an extension's modules from the registry, waits (until ctx ends) for its
// running calls, and closes it.
func (h *Host) Unload(ctx context.Context, id string) error {
	h.mu.Lock()
	x, ok := h.exts[id]
	delete(h.exts, id)
	h.mu.Unlock()
	if !ok {
		return fmt.Errorf("unloading extension %s: not loaded", id)
	}
	h.reg.RemoveExtension(id)
	ferr := h.d.FlushAudit(context.WithoutCancel(ctx), x.Caller)
	return errors.Join(x.closeAll(ctx), ferr)
}

// Close unloads every extension and stops the runtime.
func (h *Host) Close(ctx context.Context) error {
	var errs []error
	for _, id := range h.Extensions() {
		if err := h.Unload(ctx, id); err != nil {
			errs = append(errs, err)
		}
	}
	errs = append(errs, h.be.Close(), h.rt.Close(ctx))
	return errors.Join(errs...)
}
