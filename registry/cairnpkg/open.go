package cairnpkg

import (
	"bytes"
	"crypto/ed25519"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/cairnfs/cairn/schemas/manifest"
)

// Package is an opened package. The manifest and signature are read into memory; the module
// stays in the io.ReaderAt given to Open, which must stay readable while the Package is used.
// Opening checks structure only: call Verify before trusting anything in it.
type Package struct {
	// Manifest is ManifestBytes parsed and validated; Entry.BLAKE3 is always set.
	Manifest *manifest.Manifest
	// ManifestBytes are the exact bytes the signature covers.
	ManifestBytes []byte
	Signature     Signature

	r          io.ReaderAt
	moduleOff  int64
	moduleSize int64
}

// Module returns a fresh reader over the module bytes (entry.file). Each call starts at the
// beginning, so concurrent readers do not disturb each other.
func (p *Package) Module() *io.SectionReader {
	return io.NewSectionReader(p.r, p.moduleOff, p.moduleSize)
}

// ModuleSize is the module's length in bytes.
func (p *Package) ModuleSize() int64 { return p.moduleSize }

// Signature is the signature.json member (FORMAT.md "signature.json").
type Signature struct {
	Format    int               `json:"format"`
	Algorithm string            `json:"algorithm"`
	KeyID     string            `json:"key_id"`
	PublicKey ed25519.PublicKey `json:"public_key"` // base64, 32 bytes
	Signature []byte            `json:"signature"`  // base64, 64 bytes
}

// SignatureFormat is the version of signature.json this package writes and reads.
const SignatureFormat = 1

// AlgEd25519 is the only signature algorithm of format 1.
const AlgEd25519 = "ed25519"

const blockSize = 512

// Open parses a package of the given size from r. Every declared size is checked against the
// member's limit and against size before anything is allocated, so a hostile file costs at most
// its own manifest and signature in memory. Failures wrap ErrCorruptPackage.
func Open(r io.ReaderAt, size int64) (*Package, error) {
	if size < 0 || size > MaxPackageSize {
		return nil, fmt.Errorf("%w: %d bytes, limit %d", ErrCorruptPackage, size, int64(MaxPackageSize))
	}
	rd := &tarReader{r: r, size: size, seen: map[string]bool{}}
	p := &Package{r: r}

	// 1. Format marker.
	data, err := rd.readMember(VersionMember, MaxVersionSize)
	if err != nil {
		return nil, err
	}
	if err := checkVersion(data); err != nil {
		return nil, err
	}

	// 2. Manifest.
	if p.ManifestBytes, err = rd.readMember(ManifestMember, MaxManifestSize); err != nil {
		return nil, err
	}
	if p.Manifest, err = manifest.Parse(p.ManifestBytes); err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrCorruptPackage, ManifestMember, err)
	}
	if p.Manifest.Entry.BLAKE3 == "" {
		return nil, fmt.Errorf("%w: %s: entry.blake3 missing (the manifest must pin its module)", ErrCorruptPackage, ManifestMember)
	}
	if err := checkModuleName(p.Manifest.Entry.File); err != nil {
		return nil, err
	}

	// 3. Module: located, not read.
	mod, err := rd.next(p.Manifest.Entry.File, MaxModuleSize)
	if err != nil {
		return nil, err
	}
	p.moduleOff, p.moduleSize = mod.off, mod.size

	// 4. Signature.
	if data, err = rd.readMember(SignatureMember, MaxSignatureSize); err != nil {
		return nil, err
	}
	if p.Signature, err = parseSignature(data); err != nil {
		return nil, err
	}

	if err := rd.end(); err != nil {
		return nil, err
	}
	return p, nil
}

func checkVersion(data []byte) error {
	s, ok := strings.CutSuffix(string(data), "\n")
	v, err := strconv.Atoi(s)
	if !ok || err != nil || v < 1 || strconv.Itoa(v) != s {
		return fmt.Errorf("%w: %s: want a decimal version and a newline", ErrCorruptPackage, VersionMember)
	}
	if v != FormatVersion {
		return fmt.Errorf("%w: package format %d is not supported (this cairn reads format %d): upgrade cairn", ErrCorruptPackage, v, FormatVersion)
	}
	return nil
}

// checkModuleName refuses module names that are unsafe or collide with the fixed members.
func checkModuleName(name string) error {
	if err := checkName(name); err != nil {
		return err
	}
	switch name {
	case VersionMember, ManifestMember, SignatureMember:
		return fmt.Errorf("%w: entry.file %q collides with a package member", ErrCorruptPackage, name)
	}
	return nil
}

// checkName accepts relative, clean, slash-separated names without "." or ".." elements.
func checkName(name string) error {
	bad := name == "" || len(name) > 255 || strings.ContainsAny(name, "\\\x00:") || strings.HasPrefix(name, "/")
	for _, el := range strings.Split(name, "/") {
		if el == "" || el == "." || el == ".." {
			bad = true
		}
	}
	if bad {
		return fmt.Errorf("%w: member %q: unsafe path", ErrCorruptPackage, name)
	}
	return nil
}

func parseSignature(data []byte) (Signature, error) {
	var s Signature
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&s); err != nil {
		return s, fmt.Errorf("%w: %s: %v", ErrCorruptPackage, SignatureMember, err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return s, fmt.Errorf("%w: %s: trailing data", ErrCorruptPackage, SignatureMember)
	}
	switch {
	case s.Format != SignatureFormat:
		return s, fmt.Errorf("%w: %s: format %d is not supported (this cairn reads format %d)", ErrCorruptPackage, SignatureMember, s.Format, SignatureFormat)
	case s.Algorithm != AlgEd25519:
		return s, fmt.Errorf("%w: %s: algorithm %q, want %q", ErrCorruptPackage, SignatureMember, s.Algorithm, AlgEd25519)
	case len(s.PublicKey) != ed25519.PublicKeySize:
		return s, fmt.Errorf("%w: %s: public key is %d bytes, want %d", ErrCorruptPackage, SignatureMember, len(s.PublicKey), ed25519.PublicKeySize)
	case len(s.Signature) != ed25519.SignatureSize:
		return s, fmt.Errorf("%w: %s: signature is %d bytes, want %d", ErrCorruptPackage, SignatureMember, len(s.Signature), ed25519.SignatureSize)
	case s.KeyID != KeyID(s.PublicKey):
		return s, fmt.Errorf("%w: %s: key_id %q does not match the public key (%s)", ErrCorruptPackage, SignatureMember, s.KeyID, KeyID(s.PublicKey))
	}
	return s, nil
}

// tarReader walks the strict ustar subset of FORMAT.md over an io.ReaderAt.
type tarReader struct {
	r    io.ReaderAt
	size int64
	off  int64 // next header
	seen map[string]bool
}

type member struct {
	name      string
	off, size int64 // of the data
}

// next reads the header at the current offset, which must be the member want of at most limit
// bytes whose data lies inside the file, and advances past its data.
func (t *tarReader) next(want string, limit int64) (member, error) {
	hdr, err := t.block()
	if err != nil {
		return member{}, fmt.Errorf("%w (reading the header of %q)", err, want)
	}
	if isZero(hdr) {
		return member{}, fmt.Errorf("%w: member %q missing (end of archive at offset %d)", ErrCorruptPackage, want, t.off)
	}
	m, err := parseHeader(hdr)
	if err != nil {
		return member{}, fmt.Errorf("%w at offset %d", err, t.off)
	}
	if err := checkName(m.name); err != nil {
		return member{}, err
	}
	switch {
	case t.seen[m.name]:
		return member{}, fmt.Errorf("%w: duplicate member %q", ErrCorruptPackage, m.name)
	case m.name != want:
		return member{}, fmt.Errorf("%w: unexpected member %q (want %q)", ErrCorruptPackage, m.name, want)
	case m.size > limit:
		return member{}, fmt.Errorf("%w: member %q declares %d bytes, limit %d", ErrCorruptPackage, m.name, m.size, limit)
	}
	t.seen[m.name] = true
	m.off = t.off + blockSize
	padded := (m.size + blockSize - 1) / blockSize * blockSize
	if m.off+padded > t.size {
		return member{}, fmt.Errorf("%w: truncated: member %q needs %d bytes at offset %d, file is %d bytes", ErrCorruptPackage, m.name, padded, m.off, t.size)
	}
	t.off = m.off + padded
	return m, nil
}

// readMember is next followed by reading the member's data (bounded by limit).
func (t *tarReader) readMember(want string, limit int64) ([]byte, error) {
	m, err := t.next(want, limit)
	if err != nil {
		return nil, err
	}
	buf := make([]byte, m.size)
	if n, err := t.r.ReadAt(buf, m.off); n < len(buf) {
		return nil, fmt.Errorf("%w: reading member %q: %v", ErrCorruptPackage, m.name, err)
	}
	return buf, nil
}

// end checks the end-of-archive marker (two zero blocks) and that nothing follows it.
func (t *tarReader) end() error {
	for i := 0; i < 2; i++ {
		b, err := t.block()
		if err != nil {
			return fmt.Errorf("%w (reading the end-of-archive marker)", err)
		}
		if !isZero(b) {
			if m, err := parseHeader(b); err == nil && i == 0 {
				if t.seen[m.name] {
					return fmt.Errorf("%w: duplicate member %q", ErrCorruptPackage, m.name)
				}
				if err := checkName(m.name); err != nil {
					return err
				}
				return fmt.Errorf("%w: unknown member %q after %q", ErrCorruptPackage, m.name, SignatureMember)
			}
			return fmt.Errorf("%w: bad end-of-archive marker at offset %d", ErrCorruptPackage, t.off)
		}
		t.off += blockSize
	}
	if t.off != t.size {
		return fmt.Errorf("%w: %d bytes of trailing data after the end of the archive", ErrCorruptPackage, t.size-t.off)
	}
	return nil
}

func (t *tarReader) block() ([]byte, error) {
	if t.off+blockSize > t.size {
		return nil, fmt.Errorf("%w: truncated at offset %d of %d", ErrCorruptPackage, t.off, t.size)
	}
	b := make([]byte, blockSize)
	if n, err := t.r.ReadAt(b, t.off); n < blockSize {
		return nil, fmt.Errorf("%w: reading offset %d: %v", ErrCorruptPackage, t.off, err)
	}
	return b, nil
}

func isZero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}

// parseHeader decodes a POSIX ustar header of a regular file: name (with prefix) and size.
func parseHeader(b []byte) (member, error) {
	if string(b[257:263]) != "ustar\x00" || string(b[263:265]) != "00" {
		return member{}, fmt.Errorf("%w: not a ustar header", ErrCorruptPackage)
	}
	want, err := parseOctal(b[148:156])
	if err != nil {
		return member{}, fmt.Errorf("%w: header checksum: %v", ErrCorruptPackage, err)
	}
	var sum int64
	for i, c := range b {
		if i >= 148 && i < 156 {
			c = ' '
		}
		sum += int64(c)
	}
	if sum != want {
		return member{}, fmt.Errorf("%w: header checksum mismatch", ErrCorruptPackage)
	}
	if b[156] != '0' {
		return member{}, fmt.Errorf("%w: member type %q, want a regular file ('0')", ErrCorruptPackage, b[156])
	}
	name := cstring(b[0:100])
	if prefix := cstring(b[345:500]); prefix != "" {
		name = prefix + "/" + name
	}
	size, err := parseOctal(b[124:136])
	if err != nil {
		return member{}, fmt.Errorf("%w: member %q: size: %v", ErrCorruptPackage, name, err)
	}
	return member{name: name, size: size}, nil
}

func cstring(b []byte) string {
	if i := bytes.IndexByte(b, 0); i >= 0 {
		b = b[:i]
	}
	return string(b)
}

// parseOctal reads a ustar numeric field: octal digits, optionally space-padded in front and
// NUL- or space-terminated. Base-256 (GNU) encoding is refused.
func parseOctal(b []byte) (int64, error) {
	s := strings.TrimLeft(strings.TrimRight(string(b), " \x00"), " ")
	if s == "" {
		return 0, fmt.Errorf("empty numeric field")
	}
	if strings.Trim(s, "01234567") != "" {
		return 0, fmt.Errorf("bad numeric field %q", s)
	}
	v, err := strconv.ParseInt(s, 8, 64)
	if err != nil {
		return 0, fmt.Errorf("bad numeric field %q", s)
	}
	return v, nil
}
