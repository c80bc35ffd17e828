package host

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"log/slog"
	"path/filepath"

	"github.com/cairnfs/cairn/host/abi"
	"github.com/cairnfs/cairn/host/capability"
	"github.com/cairnfs/cairn/host/datafs"
	"github.com/cairnfs/cairn/host/modules"
	"github.com/cairnfs/cairn/host/process"
	"github.com/cairnfs/cairn/schemas/manifest"
)

// loadProcess starts a native extension (kind "process") as a go-plugin child pinned to the
// SHA-256 of the binary whose BLAKE3 Load checked. Its host calls go through the same
// dispatcher, capabilities, rate limit and audit as a WASM extension's; its calls have the same
// deadline, output cap and fault counting. Its stage items carry host paths, only for files
// inside its content.read scope. With a trampoline (Config.Trampoline) it runs sandboxed on
// Linux: no capabilities, no_new_privs, and Landlock limiting it to the roots of its
// content.read locations (read only; Landlock cannot express the scope's globs, which the host
// enforces in the paths it hands out), its install folder, the system's programs and libraries
// and a private scratch folder; no TCP unless it holds net.
func (h *Host) loadProcess(ctx context.Context, s Spec, binary []byte, caps *capability.Set, caller *abi.Caller,
	files *datafs.FS, config json.RawMessage, log *slog.Logger) (*Extension, error) {
	m := s.Manifest
	path, args, pin := filepath.Join(s.Dir, filepath.FromSlash(m.Entry.File)), []string(nil), []byte(nil)
	if s.Exec != nil {
		path, args = s.Exec.Path, s.Exec.Args // pinned by Launch to what it is now
	} else {
		sum := sha256.Sum256(binary)
		pin = sum[:]
	}
	var sb *process.Sandbox
	if h.cfg.Trampoline != "" {
		sb = &process.Sandbox{Trampoline: h.cfg.Trampoline, Net: caps.Has(capability.Net)}
		if files != nil {
			sb.Read = files.Roots()
		}
	} else {
		log.Warn("native extension " + m.ID + " runs with the user's rights: this host has no sandbox trampoline")
	}
	px, err := process.Start(ctx, process.Config{
		ID:         m.ID,
		Path:       path,
		Args:       args,
		Dir:        s.Dir,
		SHA256:     pin,
		Exports:    exportsOf(m),
		Dispatcher: h,
		Limits:     s.Limits.Call,
		Logger:     log,
		Sandbox:    sb,
	})
	if err != nil {
		if files != nil {
			files.Close()
		}
		return nil, fmt.Errorf("loading extension %s: %w", m.ID, err)
	}
	x := &Extension{Extension: px.Extension, Manifest: m, Caller: caller, Files: files}
	x.SetMeter(caller)
	ids, err := h.reg.AddExtension(modules.Extension{Caller: x.Extension, Manifest: m, Kind: modules.Process, Config: config,
		Paths: hostPaths{files}, ApplyData: dataApplier(m, caps), Limits: s.Limits.Outcomes})
	if err != nil {
		x.closeAll(context.WithoutCancel(ctx))
		return nil, fmt.Errorf("loading extension %s: %w", m.ID, err)
	}
	return h.register(ctx, x, ids, caps)
}

// hostPaths gives a native extension the real path of a file inside its content.read scope.
type hostPaths struct{ files *datafs.FS }

func (p hostPaths) GuestPath(abs string) (string, bool) {
	if p.files == nil {
		return "", false
	}
	if _, ok := p.files.GuestPath(abs); !ok {
		return "", false
	}
	return abs, true
}

// exportsOf lists every export a manifest names.
func exportsOf(m *manifest.Manifest) []string {
	var out []string
	c := m.Contributes
	for _, s := range c.Stages {
		out = append(out, s.Export)
	}
	for _, l := range c.Loaders {
		out = append(out, l.Export)
	}
	for _, s := range c.Sidecars {
		out = append(out, s.Export)
	}
	for _, a := range c.Agents {
		out = append(out, a.Export)
	}
	for _, q := range c.Queries {
		out = append(out, q.Export)
	}
	return out
}
