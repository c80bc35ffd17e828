package process

import (
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/cairnfs/cairn/host/process/sandbox"
)

// probe is sandbox.Probe; tests replace it to take the path of a kernel without Landlock.
var probe = sandbox.Probe

// sandbox turns the command into the trampoline's and logs what confines the process.
func (p *Process) sandbox() error {
	sb := p.cfg.Sandbox
	if runtime.GOOS != "linux" {
		p.report = fmt.Sprintf("sandbox: not available on %s: native extension %s runs with the user's rights", runtime.GOOS, p.id)
		p.log.Warn(p.report)
		return nil
	}
	if sb.Trampoline == "" {
		return errors.New("sandboxing the process: no trampoline")
	}
	tramp, err := filepath.Abs(sb.Trampoline)
	if err != nil {
		return fmt.Errorf("sandboxing the process: %w", err)
	}
	tsum, err := trampolineSum(tramp)
	if err != nil {
		return fmt.Errorf("sandboxing the process: the trampoline: %w", err)
	}
	st := probe()
	if p.scratch, err = os.MkdirTemp("", "cairn-ext-"); err != nil {
		return fmt.Errorf("sandboxing the process: creating its scratch folder: %w", err)
	}
	home, _ := os.UserHomeDir()
	pol := sandbox.Policy{ID: p.id, SHA256: hex.EncodeToString(p.sum), Landlock: st.Available,
		Read: sb.Read, Write: []string{p.scratch}, Net: sb.Net}
	if p.cfg.Dir != "" {
		pol.Exec = append(pol.Exec, p.cfg.Dir)
	}
	pol.Exec = append(pol.Exec, sandbox.PathDirs(envValue(p.env, "PATH"), home)...)
	args, err := pol.Command(p.path, p.cfg.Args)
	if err != nil {
		return err
	}
	p.exe, p.args, p.exeSum = tramp, args, tsum
	p.env = setEnv(p.env, "TMPDIR", p.scratch)
	p.env = setEnv(p.env, "HOME", p.scratch)
	p.report = st.Report(p.id)
	if st.Available {
		p.log.Info(p.report)
	} else {
		p.log.Warn(p.report)
	}
	return nil
}

// Confinement is the line the host logged about what confines the process (no_new_privs and
// Landlock, or why not); "" without a sandbox.
func (p *Process) Confinement() string { return p.report }

func (p *Process) removeScratch() {
	if p.scratch != "" {
		_ = os.RemoveAll(p.scratch)
	}
}

// sandboxed reports whether the process starts through the trampoline.
func (p *Process) sandboxed() bool { return p.exe != p.path }

// trampolines caches the SHA-256 of trampolines (the host's own binary, tens of MB) by path,
// size and modification time.
var trampolines sync.Map // path → trampolineKey

type trampolineKey struct {
	size  int64
	mtime time.Time
	sum   []byte
}

func trampolineSum(path string) ([]byte, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if v, ok := trampolines.Load(path); ok {
		if k := v.(trampolineKey); k.size == fi.Size() && k.mtime.Equal(fi.ModTime()) {
			return slices.Clone(k.sum), nil
		}
	}
	sum, err := fileSHA256(path)
	if err != nil {
		return nil, err
	}
	trampolines.Store(path, trampolineKey{size: fi.Size(), mtime: fi.ModTime(), sum: sum})
	return slices.Clone(sum), nil
}

func envValue(env []string, key string) string {
	for _, kv := range env {
		if v, ok := strings.CutPrefix(kv, key+"="); ok {
			return v
		}
	}
	return ""
}

func setEnv(env []string, key, value string) []string {
	env = slices.DeleteFunc(slices.Clone(env), func(kv string) bool { return strings.HasPrefix(kv, key+"=") })
	return append(env, key+"="+value)
}
