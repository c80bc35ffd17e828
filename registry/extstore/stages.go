package extstore

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/cairnfs/cairn/schemas/manifest"
)

// ErrReservedID: the extension id names a file of the store itself.
var ErrReservedID = errors.New("extension id is reserved: it names a file of the install store")

// reservedID reports whether id would collide with the store's own files: the id pattern
// (reverse-DNS) admits "installed.json", whose folder would replace the state file and brick
// the store.
func reservedID(id string) bool {
	return strings.EqualFold(id, StateFile)
}

// stageName is the MkdirTemp pattern of a staging folder: .stage-PID-ID-VERSION-RANDOM, so a
// later process can tell whether its owner is still alive.
func stageName(id, version string) string {
	return stagePrefix + strconv.Itoa(os.Getpid()) + "-" + id + "-" + version + "-"
}

// staleAge is how old a staging folder without a live owner (or of an older naming, without
// a PID) must be before it is removed.
const staleAge = time.Hour

// removeDeadStages removes the staging folders whose process is gone. Best effort: a folder
// that cannot be removed stays for the next time.
func (s *Store) removeDeadStages() {
	ents, err := os.ReadDir(s.Dir)
	if err != nil {
		return
	}
	for _, e := range ents {
		name := e.Name()
		if !e.IsDir() || !strings.HasPrefix(name, stagePrefix) {
			continue
		}
		rest := strings.TrimPrefix(name, stagePrefix)
		pidText, _, _ := strings.Cut(rest, "-")
		pid, err := strconv.Atoi(pidText)
		switch {
		case err == nil && pid == os.Getpid():
			continue // ours: an open transaction of this process
		case err == nil && processAlive(pid):
			continue
		case err != nil: // no PID in the name: remove it only once it is old
			if fi, err := e.Info(); err != nil || time.Since(fi.ModTime()) < staleAge {
				continue
			}
		}
		if strings.HasSuffix(name, replacedSuffix) && s.restoreReplaced(filepath.Join(s.Dir, name)) {
			continue
		}
		os.RemoveAll(filepath.Join(s.Dir, name))
	}
}

// replacedSuffix marks the folder of an installed version moved aside by a Replace until its
// commit (see Txn.Commit).
const replacedSuffix = ".replaced"

// restoreReplaced moves a replaced version's folder, left by a process that died during its
// commit, back into place when nothing took its place, and reports whether it did.
func (s *Store) restoreReplaced(dir string) bool {
	data, err := os.ReadFile(filepath.Join(dir, manifest.FileName))
	if err != nil {
		return false
	}
	m, err := manifest.Parse(data)
	if err != nil || reservedID(m.ID) {
		return false
	}
	target := s.versionDir(m.ID, m.Version)
	if _, err := os.Lstat(target); !errors.Is(err, os.ErrNotExist) {
		return false
	}
	return os.Rename(dir, target) == nil
}
