package registry

import (
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/cairnfs/cairn/internal/atomicfile"
	"github.com/cairnfs/cairn/registry/cairnpkg"
)

// DefaultIndexTTL is how long a signed index is valid when BuildOptions.TTL is zero.
const DefaultIndexTTL = 30 * 24 * time.Hour

// BuildOptions say how BuildIndexWith and SignIndexDir version and sign an index.
type BuildOptions struct {
	// Key signs the index (nil: unsigned, for a local development registry).
	Key ed25519.PrivateKey
	// TTL is how long a signed index is valid (zero: DefaultIndexTTL).
	TTL time.Duration
	// Version is the index version (zero: one more than the index.json being replaced, or 1).
	Version int64
	// Now is the signing time (zero: time.Now()).
	Now time.Time
}

// BuildIndex is BuildIndexWith(dir, BuildOptions{}): an unsigned index.
func BuildIndex(dir string) (*Index, error) { return BuildIndexWith(dir, BuildOptions{}) }

// BuildIndexWith scans dir (recursively, skipping names that start with ".") for package files
// (*.cairnpkg), checks each one's integrity (signature valid for its embedded key, module
// matching entry.blake3: a registry does not decide trust, the installing user does), and writes
// dir/index.json atomically. Two packages with the same id and version are an error, as is any
// package that fails to open or check: a registry is published whole or not at all.
//
// The index gets the next version (opts.Version, or one more than the index it replaces) and,
// with opts.Key, an expiry and the registry's signature.
func BuildIndexWith(dir string, opts BuildOptions) (*Index, error) {
	idx := &Index{Format: IndexFormat, Extensions: map[string]*Extension{}}
	where := map[string]string{} // id@version → url, for duplicate reports
	var errs []error
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if p != dir && strings.HasPrefix(d.Name(), ".") {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		if d.IsDir() || !strings.HasSuffix(d.Name(), cairnpkg.Ext) || !d.Type().IsRegular() {
			return nil
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		url := filepath.ToSlash(rel)
		r, id, err := indexPackage(p, url)
		if err != nil {
			errs = append(errs, err)
			return nil
		}
		key := id + "@" + r.Version
		if prev, ok := where[key]; ok {
			errs = append(errs, fmt.Errorf("%s: %s is also in %s", url, key, prev))
			return nil
		}
		where[key] = url
		if idx.Extensions[id] == nil {
			idx.Extensions[id] = &Extension{}
		}
		idx.Extensions[id].Versions = append(idx.Extensions[id].Versions, *r)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("building index of %s: %w", dir, err)
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("building index of %s: %w", dir, errors.Join(errs...))
	}
	if err := writeIndex(dir, idx, opts); err != nil {
		return nil, fmt.Errorf("building index of %s: %w", dir, err)
	}
	return idx, nil
}

// SignIndexDir signs dir/index.json as it is (its releases unchanged, any old signature
// replaced) with opts.Key, giving it the next version and a new expiry.
func SignIndexDir(dir string, opts BuildOptions) (*Index, error) {
	if opts.Key == nil {
		return nil, fmt.Errorf("signing the index of %s: no key", dir)
	}
	idx, err := ReadIndexFile(filepath.Join(dir, IndexFile))
	if err != nil {
		return nil, fmt.Errorf("signing the index of %s: %w", dir, err)
	}
	idx.Signature = nil
	if err := writeIndex(dir, idx, opts); err != nil {
		return nil, fmt.Errorf("signing the index of %s: %w", dir, err)
	}
	return idx, nil
}

// writeIndex versions, signs (with opts.Key) and atomically writes idx as dir/index.json.
func writeIndex(dir string, idx *Index, opts BuildOptions) error {
	idx.Version = opts.Version
	if idx.Version == 0 {
		idx.Version = previousVersion(dir) + 1
	}
	idx.Expires = time.Time{}
	var data []byte
	var err error
	if opts.Key != nil {
		now, ttl := opts.Now, opts.TTL
		if now.IsZero() {
			now = time.Now()
		}
		if ttl == 0 {
			ttl = DefaultIndexTTL
		}
		if ttl < 0 {
			return fmt.Errorf("expiry %s: want a positive duration", ttl)
		}
		idx.Expires = now.Add(ttl).UTC().Truncate(time.Second)
		data, err = SignIndex(idx, opts.Key)
	} else {
		if err = idx.Validate(); err == nil {
			data, err = idx.Encode()
		}
	}
	if err != nil {
		return err
	}
	return atomicfile.Write(filepath.Join(dir, IndexFile), data, 0o644)
}

// previousVersion is the version of dir/index.json, read leniently (an index this cairn cannot
// otherwise parse still has its counter respected), or 0.
func previousVersion(dir string) int64 {
	f, err := openRegular(filepath.Join(dir, IndexFile))
	if err != nil {
		return 0
	}
	defer f.Close()
	data, err := readCapped(f, MaxIndexSize)
	if err != nil {
		return 0
	}
	var v struct {
		Version int64 `json:"version"`
	}
	if json.Unmarshal(data, &v) != nil || v.Version < 0 {
		return 0
	}
	return v.Version
}

func indexPackage(p, url string) (*Release, string, error) {
	if err := checkURL(url); err != nil {
		return nil, "", fmt.Errorf("%s: %w", p, err)
	}
	f, err := os.Open(p)
	if err != nil {
		return nil, "", err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, "", err
	}
	// One descriptor for hashing and parsing, so both see the same file.
	sum, err := hashReader(io.NewSectionReader(f, 0, fi.Size()))
	if err != nil {
		return nil, "", fmt.Errorf("%s: %w", p, err)
	}
	pkg, err := cairnpkg.Open(f, fi.Size())
	if err != nil {
		return nil, "", fmt.Errorf("%s: %w", url, err)
	}
	if err := pkg.CheckIntegrity(); err != nil {
		return nil, "", fmt.Errorf("%s: %w", url, err)
	}
	m := pkg.Manifest
	return &Release{
		Version:      m.Version,
		Name:         m.Name,
		Description:  m.Description,
		ABI:          m.ABI,
		Kernel:       m.Kernel,
		Kind:         m.Kind,
		URL:          url,
		BLAKE3:       sum,
		Size:         fi.Size(),
		KeyID:        pkg.Signature.KeyID,
		Dependencies: m.Dependencies,
		Capabilities: m.Capabilities,
		Exports:      m.Exports,
	}, m.ID, nil
}

// ReadIndexFile reads and validates an index from a local file.
func ReadIndexFile(p string) (*Index, error) { return readIndexFile(p, MaxIndexSize) }

func readIndexFile(p string, limit int64) (*Index, error) {
	f, err := openRegular(p)
	if err != nil {
		return nil, fmt.Errorf("reading index: %w", err)
	}
	defer f.Close()
	data, err := readCapped(f, limit)
	if err != nil {
		return nil, fmt.Errorf("reading index %s: %w", p, err)
	}
	idx, err := ParseIndex(data)
	if err != nil {
		return nil, fmt.Errorf("reading index %s: %w", p, err)
	}
	return idx, nil
}

// openRegular opens the regular file p without blocking on a FIFO or device in its place.
func openRegular(p string) (*os.File, error) {
	f, err := os.OpenFile(p, os.O_RDONLY|nonBlock, 0)
	if err != nil {
		return nil, err
	}
	if fi, err := f.Stat(); err != nil || !fi.Mode().IsRegular() {
		f.Close()
		if err == nil {
			err = fmt.Errorf("%s is not a regular file", p)
		}
		return nil, err
	}
	return f, nil
}
