package exttest

import (
	"encoding/json"
	"io/fs"
	"time"

	"github.com/cairnfs/cairn/schemas/manifest"
	"github.com/cairnfs/cairn/sdk/cairn"
)

// Options configure Run, RunModule, RunSubject and Evaluate. The zero value
// runs every check with the default fixture and limits.
type Options struct {
	// Package is the Go package Run builds, relative to dir (default ".").
	Package string
	// Module is an already built module; Run then skips the build.
	Module string

	// Files is the fixture tree mounted read-only at /data (only the files
	// content.read covers) and served by entries.query and content.read.
	// Default: DefaultFiles().
	Files fs.FS
	// Batch is the golden batch. Default: the fixture's files the export's
	// manifest filter selects, or all of them when it selects none.
	Batch []cairn.Item
	// Config is what config.get returns and what calls carry (default {}).
	Config json.RawMessage
	// Grant is what the user grants; nil grants everything requested.
	Grant map[string]manifest.Scope
	// Events are pending for events.poll at the start of every check.
	Events []cairn.Event

	// CallTimeout is the deadline of every call (default 30 s: the machine
	// running the tests may be busy).
	CallTimeout time.Duration
	// ShortDeadline is the deadline of the large batch (default 100 ms), and
	// DeadlineGrace how long after it the host must be back (default 10 s).
	ShortDeadline, DeadlineGrace time.Duration
	// LargeBatch is the size of the large batch (default 20000 items, the
	// golden batch repeated).
	LargeBatch int
	// MemoryCalls is the number of golden-batch calls of the memory check
	// (default 200). The guest's memory may not exceed MaxMemory (default
	// 256 MiB) nor grow by more than MaxGrowth (default 32 MiB) between the
	// end of the warm-up (a tenth of the calls) and the last call.
	MemoryCalls          int
	MaxMemory, MaxGrowth uint64
	// MaxPages caps the linear memory of the module (default 4096 pages,
	// 256 MiB; the plain extism host only).
	MaxPages uint32

	// Skip names checks not to run, by leaf name ("memory") or full name
	// ("stage.x/memory").
	Skip []string
	// Verify adds assertions on each export's golden batch result.
	Verify func(r Reporter, g Golden)
	// CacheDir keeps compiled modules between runs (~1 s saved per MB of
	// module). Default: an in-memory cache for the test process. A directory
	// grows with every distinct build of a module: wazero never evicts.
	CacheDir string
}

// Reporter is what checks report through: *testing.T, or a CheckResult in
// Evaluate.
type Reporter interface {
	Helper()
	Errorf(format string, args ...any)
	Logf(format string, args ...any)
}

func (o Options) withDefaults() Options {
	if o.Package == "" {
		o.Package = "."
	}
	if o.Files == nil {
		o.Files = DefaultFiles()
	}
	if len(o.Config) == 0 {
		o.Config = json.RawMessage("{}")
	}
	if o.CallTimeout <= 0 {
		o.CallTimeout = 30 * time.Second
	}
	if o.ShortDeadline <= 0 {
		o.ShortDeadline = 100 * time.Millisecond
	}
	if o.DeadlineGrace <= 0 {
		o.DeadlineGrace = 10 * time.Second
	}
	if o.LargeBatch <= 0 {
		o.LargeBatch = 20000
	}
	if o.MemoryCalls <= 0 {
		o.MemoryCalls = 200
	}
	if o.MaxMemory == 0 {
		o.MaxMemory = 256 << 20
	}
	if o.MaxGrowth == 0 {
		o.MaxGrowth = 32 << 20
	}
	if o.MaxPages == 0 {
		o.MaxPages = 4096
	}
	return o
}
