package sandbox

import (
	"encoding/hex"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
)

// Arg is the first argument with which the host runs its own binary as the trampoline:
// `cairn __sandbox-exec POLICY PATH ARGS…`.
const Arg = "__sandbox-exec"

// Exit statuses of a trampoline that refuses to run the extension.
const (
	// ExitChecksum: the extension binary is not the pinned one.
	ExitChecksum = 86
	// ExitSandbox: the sandbox could not be set up (bad policy, Landlock failed).
	ExitSandbox = 87
)

// Policy is what the trampoline applies. It travels as JSON in the trampoline's arguments.
type Policy struct {
	// ID is the extension's id, for messages.
	ID string `json:"id"`
	// SHA256 is the hex SHA-256 the extension binary must have.
	SHA256 string `json:"sha256"`
	// Landlock asks for Landlock: the trampoline fails (ExitSandbox) when the kernel does not
	// have it. The host sets it when Probe found it.
	Landlock bool `json:"landlock"`
	// Read lists files and folders the extension may read (and list), besides the baseline.
	Read []string `json:"read,omitempty"`
	// Exec lists files and folders the extension may read and execute (its install folder).
	Exec []string `json:"exec,omitempty"`
	// Write lists folders in which the extension may do anything (its scratch folder).
	Write []string `json:"write,omitempty"`
	// Net leaves TCP alone; otherwise Landlock ABI 4+ denies TCP bind and connect.
	Net bool `json:"net,omitempty"`
}

// Command returns the trampoline's arguments (after its own path) that run path with args
// under p.
func (p Policy) Command(path string, args []string) ([]string, error) {
	b, err := json.Marshal(p)
	if err != nil {
		return nil, fmt.Errorf("encoding the sandbox policy of %s: %w", p.ID, err)
	}
	return append([]string{Arg, string(b), path}, args...), nil
}

// parse reads the trampoline's arguments (after Arg).
func parse(args []string) (Policy, string, []string, error) {
	var p Policy
	if len(args) < 2 {
		return p, "", nil, fmt.Errorf("usage: cairn %s POLICY PATH [ARG…]", Arg)
	}
	if err := json.Unmarshal([]byte(args[0]), &p); err != nil {
		return p, "", nil, fmt.Errorf("reading the sandbox policy: %w", err)
	}
	if sum, err := hex.DecodeString(p.SHA256); err != nil || len(sum) != 32 {
		return p, "", nil, fmt.Errorf("reading the sandbox policy of %s: sha256 %q is not 64 hex digits", p.ID, p.SHA256)
	}
	if !filepath.IsAbs(args[1]) {
		return p, "", nil, fmt.Errorf("running %s: the binary path %q is not absolute", p.ID, args[1])
	}
	return p, args[1], args[2:], nil
}

// Baseline paths (see the package doc).
var (
	baselineExec = []string{"/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32", "/opt", "/nix/store"}
	baselineRead = []string{"/etc", "/proc", "/sys", "/var/cache/fontconfig"}
	baselineDevs = []string{"/dev/null", "/dev/zero", "/dev/full", "/dev/random", "/dev/urandom"}
	baselineList = []string{"/dev"}
)

// PathDirs are the entries of a PATH the extension may execute from: the absolute ones but
// "/" and the home folder or its parents (that would open the whole home).
func PathDirs(path, home string) []string {
	var out []string
	for _, d := range filepath.SplitList(path) {
		if !filepath.IsAbs(d) {
			continue
		}
		d = filepath.Clean(d)
		if d == "/" || (home != "" && (home == d || strings.HasPrefix(filepath.Clean(home)+"/", d+"/"))) {
			continue
		}
		out = append(out, d)
	}
	return out
}
