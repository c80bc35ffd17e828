package main

import (
	"errors"
	"io"
	"path"
	"strconv"
	"strings"

	"github.com/cairnfs/cairn/sdk/cairn"
)

func main() {} // a WASI reactor: the host calls the exports

// MetadataKey is the metadata key of the counts.
const MetadataKey = "counts"

// Config is the extension's configuration (cairn.toml [config]).
type Config struct {
	MaxSize int64 `json:"max_size"` // skip larger files; 0 means the default
}

// DefaultMaxSize is the largest file counted unless the config says otherwise.
const DefaultMaxSize = 64 << 20

var wordcount = cairn.Stage("stage.wordcount", countBatch)

//go:wasmexport stage_wordcount
func stageWordcount() int32 { return cairn.Run(wordcount) }

// buf is reused by every file of every call: the guest's memory stays flat.
var buf = make([]byte, 64<<10)

// countBatch counts each text item and records its counts.
func countBatch(ctx cairn.Ctx, items []cairn.Item) []cairn.Outcome {
	cfg := Config{}
	err := ctx.DecodeConfig(&cfg)
	out := make([]cairn.Outcome, len(items))
	for i, it := range items {
		if err != nil {
			out[i] = it.Fail(err)
			continue
		}
		out[i] = countItem(it, cfg)
	}
	return out
}

func countItem(it cairn.Item, cfg Config) cairn.Outcome {
	if reason := skip(it, cfg); reason != "" {
		return it.OK(map[string]string{"skipped": reason})
	}
	f, err := it.Open()
	if err != nil {
		return it.Fail(err)
	}
	defer f.Close()
	var c Counter
	for {
		n, err := f.Read(buf)
		c.Write(buf[:n])
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return it.Fail(err)
		}
	}
	counts := c.Counts()
	if err := cairn.SetMetadata(it.Target(), MetadataKey, counts); err != nil {
		return it.Fail(err)
	}
	return it.OK(counts)
}

// textExts are counted when the host sent neither a kind nor a MIME type.
var textExts = map[string]bool{".txt": true, ".md": true, ".csv": true, ".tsv": true, ".json": true, ".log": true,
	".go": true, ".py": true, ".js": true, ".ts": true, ".html": true, ".css": true, ".xml": true, ".yaml": true,
	".yml": true, ".toml": true, ".ini": true, ".rst": true, ".tex": true, ".sh": true, ".c": true, ".h": true}

// skip returns why the item is not counted, or "".
func skip(it cairn.Item, cfg Config) string {
	max := cfg.MaxSize
	if max <= 0 {
		max = DefaultMaxSize
	}
	switch {
	case it.Kind != "" && it.Kind != "text":
		return "not text (kind " + it.Kind + ")"
	case it.Kind == "" && it.Mime != "" && !strings.HasPrefix(it.Mime, "text/"):
		return "not text (" + it.Mime + ")"
	case it.Kind == "" && it.Mime == "" && !textExts[strings.ToLower(path.Ext(it.Name))]:
		return "not text (unknown type)"
	case it.Size > max:
		return "larger than " + strconv.FormatInt(max, 10) + " bytes"
	}
	return ""
}
