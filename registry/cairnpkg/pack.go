package cairnpkg

import (
	"archive/tar"
	"bytes"
	"crypto/ed25519"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/zeebo/blake3"

	"github.com/cairnfs/cairn/schemas/manifest"
)

// Pack builds a package from dir, which holds cairn.toml and the module its entry.file names,
// signs it with key and writes it to out. It computes the module's BLAKE3 into entry.blake3 (a
// stale value in the source is replaced) and returns the manifest as packed. The packed
// manifest is the source re-encoded as canonical TOML, so comments are not kept; the source
// folder is not modified. Output is deterministic: the same inputs give the same bytes.
func Pack(dir string, key ed25519.PrivateKey, out io.Writer) (*manifest.Manifest, error) {
	if len(key) != ed25519.PrivateKeySize {
		return nil, fmt.Errorf("packing %s: private key is %d bytes, want %d", dir, len(key), ed25519.PrivateKeySize)
	}
	src, err := readCapped(filepath.Join(dir, manifest.FileName), MaxManifestSize)
	if err != nil {
		return nil, fmt.Errorf("packing %s: %w", dir, err)
	}
	m, err := manifest.Parse(src)
	if err != nil {
		return nil, fmt.Errorf("packing %s: %w", dir, err)
	}
	if err := checkModuleName(m.Entry.File); err != nil {
		return nil, fmt.Errorf("packing %s: entry.file: %w", dir, err)
	}

	modPath := filepath.Join(dir, filepath.FromSlash(m.Entry.File))
	mod, err := os.Open(modPath)
	if err != nil {
		return nil, fmt.Errorf("packing %s: module: %w", dir, err)
	}
	defer mod.Close()
	fi, err := mod.Stat()
	if err != nil {
		return nil, fmt.Errorf("packing %s: module: %w", dir, err)
	}
	if !fi.Mode().IsRegular() || fi.Size() > MaxModuleSize {
		return nil, fmt.Errorf("packing %s: module %s: want a regular file of at most %d bytes", dir, m.Entry.File, MaxModuleSize)
	}
	sum, err := hashReader(io.NewSectionReader(mod, 0, fi.Size()))
	if err != nil {
		return nil, fmt.Errorf("packing %s: hashing module: %w", dir, err)
	}
	m.Entry.BLAKE3 = sum

	mbytes, err := m.Encode()
	if err != nil {
		return nil, fmt.Errorf("packing %s: encoding manifest: %w", dir, err)
	}
	packed, err := manifest.Parse(mbytes)
	if err != nil {
		return nil, fmt.Errorf("packing %s: the re-encoded manifest does not parse: %w", dir, err)
	}
	if len(mbytes) > MaxManifestSize {
		return nil, fmt.Errorf("packing %s: manifest is %d bytes encoded, limit %d", dir, len(mbytes), MaxManifestSize)
	}

	pub := key.Public().(ed25519.PublicKey)
	sig, err := json.MarshalIndent(Signature{
		Format:    SignatureFormat,
		Algorithm: AlgEd25519,
		KeyID:     KeyID(pub),
		PublicKey: pub,
		Signature: ed25519.Sign(key, mbytes),
	}, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("packing %s: %w", dir, err)
	}
	sig = append(sig, '\n')

	tw := tar.NewWriter(out)
	modMode := int64(0o644)
	if m.Kind == manifest.KindProcess {
		modMode = 0o755
	}
	put := func(name string, mode, size int64, r io.Reader) error {
		hdr := &tar.Header{Typeflag: tar.TypeReg, Name: name, Mode: mode, Size: size, ModTime: time.Unix(0, 0), Format: tar.FormatUSTAR}
		if err := tw.WriteHeader(hdr); err != nil {
			return fmt.Errorf("member %s: %w", name, err)
		}
		if _, err := io.Copy(tw, r); err != nil {
			return fmt.Errorf("member %s: %w", name, err)
		}
		return nil
	}
	version := strconv.Itoa(FormatVersion) + "\n"
	if err := put(VersionMember, 0o644, int64(len(version)), strings.NewReader(version)); err != nil {
		return nil, fmt.Errorf("packing %s: %w", dir, err)
	}
	if err := put(ManifestMember, 0o644, int64(len(mbytes)), bytes.NewReader(mbytes)); err != nil {
		return nil, fmt.Errorf("packing %s: %w", dir, err)
	}
	h := blake3.New()
	if err := put(m.Entry.File, modMode, fi.Size(), io.TeeReader(io.NewSectionReader(mod, 0, fi.Size()), h)); err != nil {
		return nil, fmt.Errorf("packing %s: %w", dir, err)
	}
	if hex.EncodeToString(h.Sum(nil)) != sum {
		return nil, fmt.Errorf("packing %s: module %s changed while packing", dir, m.Entry.File)
	}
	if err := put(SignatureMember, 0o644, int64(len(sig)), bytes.NewReader(sig)); err != nil {
		return nil, fmt.Errorf("packing %s: %w", dir, err)
	}
	if err := tw.Close(); err != nil {
		return nil, fmt.Errorf("packing %s: %w", dir, err)
	}
	return packed, nil
}

// PackFile is Pack into a new file at path (written beside it, then renamed into place).
func PackFile(dir string, key ed25519.PrivateKey, path string) (*manifest.Manifest, error) {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return nil, fmt.Errorf("packing %s: %w", dir, err)
	}
	defer os.Remove(f.Name()) // no-op after the rename
	m, err := Pack(dir, key, f)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(f.Name(), 0o644)
	}
	if err == nil {
		err = os.Rename(f.Name(), path)
	}
	if err != nil {
		return nil, fmt.Errorf("packing %s: writing %s: %w", dir, path, err)
	}
	return m, nil
}

// OpenFile opens the package at path. Close the returned file when done with the Package.
func OpenFile(path string) (*Package, *os.File, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, fmt.Errorf("opening package: %w", err)
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, nil, fmt.Errorf("opening package: %w", err)
	}
	p, err := Open(f, fi.Size())
	if err != nil {
		f.Close()
		return nil, nil, fmt.Errorf("opening package %s: %w", path, err)
	}
	return p, f, nil
}

// HashFile returns the BLAKE3-256 (hex) of the file at path.
func HashFile(path string) (sum string, size int64, err error) {
	f, err := os.Open(path)
	if err != nil {
		return "", 0, err
	}
	defer f.Close()
	h := blake3.New()
	size, err = io.Copy(h, f)
	if err != nil {
		return "", 0, err
	}
	return hex.EncodeToString(h.Sum(nil)), size, nil
}

func hashReader(r io.Reader) (string, error) {
	h := blake3.New()
	if _, err := io.Copy(h, r); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

func readCapped(path string, limit int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > limit {
		return nil, fmt.Errorf("%s: larger than %d bytes", path, limit)
	}
	return data, nil
}
