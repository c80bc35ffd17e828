package cairnpkg

import (
	"bytes"
	"crypto/ed25519"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"regexp"
	"sort"

	"github.com/Masterminds/semver/v3"
	"github.com/zeebo/blake3"

	"github.com/cairnfs/cairn/schemas/manifest"
)

// VerifyOptions says what the verifying host is and which keys it accepts.
type VerifyOptions struct {
	// HostABI is the host ABI version this cairn provides (host/abi.Version). Required.
	HostABI string
	// Kernel is this cairn's kernel version; if set, the manifest's kernel range must admit it.
	Kernel string
	// AllowUnknownKey accepts a valid signature by a key the trust store does not hold (trust on
	// first use). Verified.KeyTrusted is then false; the caller decides whether to remember the
	// key. Installing from a file needs the user to ask for this explicitly.
	AllowUnknownKey bool
}

// Verified is a package that passed Verify. Only Verify makes one.
type Verified struct {
	*Package
	// KeyID is the signer's key id.
	KeyID string
	// KeyTrusted reports whether the trust store holds the key; false means it was accepted
	// under AllowUnknownKey.
	KeyTrusted bool
	// Capabilities are the requested capabilities, sorted by name, for the caller to show the
	// user before anything runs.
	Capabilities []Capability
}

// Capability is one requested capability with its vocabulary description and scope.
type Capability struct {
	Name        string
	Description string
	Scope       manifest.Scope
}

// Verify checks a package in this order and stops at the first failure:
//
//  1. signature: Ed25519 over ManifestBytes with the embedded key (ErrBadSignature), and that
//     key trusted, or unknown and opts.AllowUnknownKey (ErrUntrustedKey);
//  2. module hash: BLAKE3 of the module equals entry.blake3 (ErrHashMismatch);
//  3. ABI range admits opts.HostABI (ErrABIMismatch), then the kernel range admits opts.Kernel
//     when set (ErrKernelMismatch);
//
// and returns the requested capabilities. Step 2 reads the whole module (BLAKE3 streams).
// trusted may be nil (trusts nothing).
func Verify(pkg *Package, trusted TrustStore, opts VerifyOptions) (*Verified, error) {
	if opts.HostABI == "" {
		return nil, errors.New("verifying package: VerifyOptions.HostABI is required")
	}
	m := pkg.Manifest
	name := pkg.name()
	sig := pkg.Signature

	// 1. Signature, then trust in the key.
	if err := pkg.checkSignature(); err != nil {
		return nil, err
	}
	v := &Verified{Package: pkg, KeyID: sig.KeyID}
	var have ed25519.PublicKey
	var known bool
	if trusted != nil {
		have, known = trusted.TrustedKey(sig.KeyID)
	}
	switch {
	case known && bytes.Equal(have, sig.PublicKey):
		v.KeyTrusted = true
	case known:
		return nil, fmt.Errorf("%w: package %s: signed by key %s, but the trust store holds a different key under that id", ErrUntrustedKey, name, sig.KeyID)
	case !opts.AllowUnknownKey:
		return nil, fmt.Errorf("%w: package %s is signed by key %s, which is not trusted: trust the publisher's key, or allow unknown keys explicitly", ErrUntrustedKey, name, sig.KeyID)
	}

	// 2. Module hash.
	if err := pkg.checkModule(); err != nil {
		return nil, err
	}

	// 3. ABI and kernel ranges.
	if err := CheckABI(m, opts.HostABI); err != nil {
		return nil, err
	}
	if opts.Kernel != "" {
		if err := CheckKernel(m, opts.Kernel); err != nil {
			return nil, err
		}
	}

	// 4. Capabilities, for the caller to show.
	for _, c := range sortedNames(m.Capabilities) {
		v.Capabilities = append(v.Capabilities, Capability{Name: c, Description: manifest.Capabilities[c], Scope: m.Capabilities[c]})
	}
	return v, nil
}

// CheckIntegrity checks that the signature verifies with the embedded key (ErrBadSignature)
// and the module matches entry.blake3 (ErrHashMismatch), without asking whether the key is
// trusted or the ABI fits: what a registry checks before indexing a package.
func (p *Package) CheckIntegrity() error {
	if err := p.checkSignature(); err != nil {
		return err
	}
	return p.checkModule()
}

func (p *Package) name() string { return p.Manifest.ID + "@" + p.Manifest.Version }

func (p *Package) checkSignature() error {
	if !ed25519.Verify(p.Signature.PublicKey, p.ManifestBytes, p.Signature.Signature) {
		return fmt.Errorf("%w: package %s: the signature by key %s does not verify over the manifest", ErrBadSignature, p.name(), p.Signature.KeyID)
	}
	return nil
}

func (p *Package) checkModule() error {
	h := blake3.New()
	if _, err := io.Copy(h, p.Module()); err != nil {
		return fmt.Errorf("package %s: reading module: %w", p.name(), err)
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != p.Manifest.Entry.BLAKE3 {
		return fmt.Errorf("%w: package %s: module %s has BLAKE3 %s, the manifest pins %s", ErrHashMismatch, p.name(), p.Manifest.Entry.File, got, p.Manifest.Entry.BLAKE3)
	}
	return nil
}

// CheckABI returns nil if m's ABI range admits the host ABI version hostABI, else an error
// wrapping ErrABIMismatch that names both versions and which side is too old.
func CheckABI(m *manifest.Manifest, hostABI string) error {
	ok, err := m.SupportsABI(hostABI)
	if err != nil {
		return fmt.Errorf("%w: extension %s@%s: abi %q vs host %q: %v", ErrABIMismatch, m.ID, m.Version, m.ABI, hostABI, err)
	}
	if ok {
		return nil
	}
	return fmt.Errorf("%w: extension %s@%s needs host ABI %s; this cairn provides %s: %s",
		ErrABIMismatch, m.ID, m.Version, m.ABI, hostABI, advice(m.ABI, hostABI))
}

// CheckKernel is CheckABI for the kernel range (ErrKernelMismatch). An empty range admits all.
func CheckKernel(m *manifest.Manifest, kernel string) error {
	if m.Kernel == "" {
		return nil
	}
	c, err := semver.NewConstraint(m.Kernel)
	if err != nil {
		return fmt.Errorf("%w: extension %s@%s: kernel %q: %v", ErrKernelMismatch, m.ID, m.Version, m.Kernel, err)
	}
	kv, err := semver.NewVersion(kernel)
	if err != nil {
		return fmt.Errorf("%w: kernel version %q: %v", ErrKernelMismatch, kernel, err)
	}
	if c.Check(kv) {
		return nil
	}
	return fmt.Errorf("%w: extension %s@%s needs kernel %s; this cairn is %s: %s",
		ErrKernelMismatch, m.ID, m.Version, m.Kernel, kernel, advice(m.Kernel, kernel))
}

// Side says which side of a version range check is too old.
type Side int

// Sides.
const (
	SideUnknown   Side = iota // the range admits versions on both sides of the host's, or none
	SideHost                  // only newer host versions are admitted: upgrade cairn
	SideExtension             // only older host versions are admitted: update the extension
)

var versionRE = regexp.MustCompile(`\d+(\.\d+){0,2}`)

// TooOld reports which side is too old when the range r does not admit v: it probes versions
// around every version mentioned in r and around v, and sees on which side of v they fall.
func TooOld(r, v string) Side {
	c, err := semver.NewConstraint(r)
	if err != nil {
		return SideUnknown
	}
	have, err := semver.NewVersion(v)
	if err != nil {
		return SideUnknown
	}
	probes := []*semver.Version{have}
	for _, s := range versionRE.FindAllString(r, -1) {
		if p, err := semver.NewVersion(s); err == nil {
			probes = append(probes, p)
		}
	}
	var newer, older bool
	for _, p := range probes {
		cands := []semver.Version{*p, p.IncPatch(), p.IncMinor(), p.IncMajor()}
		if p.Patch() > 0 {
			cands = append(cands, *semver.New(p.Major(), p.Minor(), p.Patch()-1, "", ""))
		}
		if p.Minor() > 0 {
			cands = append(cands, *semver.New(p.Major(), p.Minor()-1, 0, "", ""), *semver.New(p.Major(), p.Minor()-1, 999999, "", ""))
		}
		if p.Major() > 0 {
			cands = append(cands, *semver.New(p.Major()-1, 0, 0, "", ""), *semver.New(p.Major()-1, 999999, 0, "", ""))
		}
		for i := range cands {
			if !c.Check(&cands[i]) {
				continue
			}
			switch cands[i].Compare(have) {
			case 1:
				newer = true
			case -1:
				older = true
			}
		}
	}
	switch {
	case newer && !older:
		return SideHost
	case older && !newer:
		return SideExtension
	}
	return SideUnknown
}

func advice(r, v string) string {
	switch TooOld(r, v) {
	case SideHost:
		return "cairn is too old: upgrade cairn"
	case SideExtension:
		return "the extension is too old: update the extension"
	}
	return "the versions are incompatible"
}

func sortedNames[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
