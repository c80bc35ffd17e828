package store

import (
	"path"
	"strings"
)

// Kind is what an entry is on disk.
type Kind int

// Entry kinds. The numbers are stored.
const (
	KindFile    Kind = 0
	KindDir     Kind = 1
	KindSymlink Kind = 2
	// Special files: never hashed, never handed to a stage, never opened.
	KindFIFO   Kind = 3 // a named pipe
	KindDevice Kind = 4 // a character or block device
	KindSocket Kind = 5 // a Unix socket
)

// Special reports whether k is a FIFO, a device or a socket.
func (k Kind) Special() bool { return k == KindFIFO || k == KindDevice || k == KindSocket }

// KindNamed is the Kind of a kind's name ("file", "dir", "symlink", "fifo", "device", "socket").
func KindNamed(name string) (Kind, bool) {
	for k := KindFile; k <= KindSocket; k++ {
		if k.String() == name {
			return k, true
		}
	}
	return 0, false
}

func (k Kind) String() string {
	switch k {
	case KindFile:
		return "file"
	case KindDir:
		return "dir"
	case KindSymlink:
		return "symlink"
	case KindFIFO:
		return "fifo"
	case KindDevice:
		return "device"
	case KindSocket:
		return "socket"
	}
	return "unknown"
}

// Index modes of a location.
const (
	ModeShallow = "shallow" // metadata only
	ModeContent = "content" // + content identity
	ModeDeep    = "deep"    // + every pipeline stage
)

// ValidMode reports whether m is an index mode.
func ValidMode(m string) bool { return m == ModeShallow || m == ModeContent || m == ModeDeep }

// Device is a device of the library.
type Device struct {
	ID        int64  `bun:"id,pk,autoincrement"`
	UUID      string `bun:"uuid"`
	Name      string `bun:"name"`
	Slug      string `bun:"slug"`
	OS        string `bun:"os"`
	PublicKey []byte `bun:"public_key"`
	CreatedAt int64  `bun:"created_at"`
}

// Location is an indexed root folder on a device.
type Location struct {
	ID            int64          `bun:"id,pk,autoincrement"`
	UUID          string         `bun:"uuid"`
	DeviceID      int64          `bun:"device_id"`
	Path          string         `bun:"path"`
	IndexMode     string         `bun:"index_mode"`
	RootEntryID   int64          `bun:"root_entry_id,nullzero"`
	ScanState     string         `bun:"scan_state"`
	Config        LocationConfig `bun:"config,type:text"`
	LastIndexedAt int64          `bun:"last_indexed_at,nullzero"`
	CreatedAt     int64          `bun:"created_at"`
}

// LocationConfig is a location's persisted indexing settings (stored as JSON).
type LocationConfig struct {
	// NoIgnore turns every ignore rule off (system, VCS, dev, NAS, .gitignore).
	NoIgnore bool `json:"no_ignore,omitempty"`
	// IgnoreHidden skips names starting with '.'.
	IgnoreHidden bool `json:"ignore_hidden,omitempty"`
	// Ignore holds extra patterns in .gitignore syntax.
	Ignore []string `json:"ignore,omitempty"`
	// Pipeline names the pipeline `cairn index` runs after indexing ("" or "none": none).
	Pipeline string `json:"pipeline,omitempty"`
}

// Abs joins a location-relative path to the location root ("" is the root itself).
func (l *Location) Abs(rel string) string {
	if rel == "" {
		return l.Path
	}
	if strings.HasSuffix(l.Path, "/") {
		return l.Path + rel
	}
	return l.Path + "/" + rel
}

// Rel returns abs relative to the location root and whether abs is inside it.
func (l *Location) Rel(abs string) (string, bool) {
	abs = path.Clean(abs)
	root := path.Clean(l.Path)
	if abs == root {
		return "", true
	}
	prefix := root + "/"
	if root == "/" {
		prefix = "/"
	}
	if strings.HasPrefix(abs, prefix) {
		return abs[len(prefix):], true
	}
	return "", false
}

// Entry is a file, directory or symlink.
type Entry struct {
	ID         int64
	LocationID int64
	ParentID   int64 // 0 for a location root
	Name       string
	Extension  string
	Kind       Kind
	Size       int64
	MtimeNs    int64
	Inode      uint64
	ContentID  int64 // 0 when the entry has no content identity
	LinkTarget string
	AggSize    int64 // directories: bytes of all files below
	FileCount  int64 // directories: files below
	DirCount   int64 // directories: directories below
	ChildCount int64 // directories: direct children
	IndexedAt  int64
}

// Content is a content identity (REFERENCE.md §1).
type Content struct {
	ID            int64
	UUID          string
	CasID         string
	CasAlgo       string
	Size          int64
	Kind          string
	Mime          string
	IntegrityHash string
	IntegrityAlgo string
	IntegrityAt   int64
}

// Extension returns the lowercase extension of a file name without the dot ("" for none, and
// for dotfiles like ".bashrc").
func Extension(name string) string {
	i := strings.LastIndexByte(name, '.')
	if i <= 0 || i == len(name)-1 {
		return ""
	}
	return strings.ToLower(name[i+1:])
}

// JoinRel joins a directory's relative path and a child name.
func JoinRel(dir, name string) string {
	if dir == "" {
		return name
	}
	return dir + "/" + name
}
