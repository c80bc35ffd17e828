package registry

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/cairnfs/cairn/internal/atomicfile"
	"github.com/cairnfs/cairn/registry/cairnpkg"
)

// BuildIndex scans dir (recursively, skipping names that start with ".") for package files
// (*.cairnpkg), checks each one's integrity (signature valid for its embedded key, module
// matching entry.blake3: a registry does not decide trust, the installing user does), and writes
// dir/index.json atomically. Two packages with the same id and version are an error, as is any
// package that fails to open or check: a registry is published whole or not at all.
func BuildIndex(dir string) (*Index, error) {
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
	if err := idx.Validate(); err != nil {
		return nil, fmt.Errorf("building index of %s: %w", dir, err)
	}
	data, err := idx.Encode()
	if err != nil {
		return nil, fmt.Errorf("building index of %s: %w", dir, err)
	}
	if err := atomicfile.Write(filepath.Join(dir, IndexFile), data, 0o644); err != nil {
		return nil, fmt.Errorf("building index of %s: %w", dir, err)
	}
	return idx, nil
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
