package main

import (
	"fmt"
	"strings"
	"sync"

	"github.com/cairnfs/cairn/extensions/filetype/detect"
	"github.com/cairnfs/cairn/sdk/cairn"
)

func main() {} // a WASI reactor: the host calls the exports

// Config is the extension's configuration.
type Config struct {
	Definitions []string `json:"definitions"` // extra TOML definition documents
}

var filetype = cairn.Stage("stage.filetype", detectBatch)

//go:wasmexport stage_filetype
func stageFiletype() int32 { return cairn.Run(filetype) }

// The detector of the last config, rebuilt only when the config changes.
var (
	mu        sync.Mutex
	cachedKey string
	cached    *detect.Detector
	cachedErr error
	haveCache bool
)

func detector(cfg Config) (*detect.Detector, error) {
	key := strings.Join(cfg.Definitions, "\x00")
	mu.Lock()
	defer mu.Unlock()
	if haveCache && key == cachedKey {
		return cached, cachedErr
	}
	docs := make([][]byte, len(cfg.Definitions))
	for i, d := range cfg.Definitions {
		docs[i] = []byte(d)
	}
	cached, cachedErr = detect.New(docs...)
	cachedKey, haveCache = key, true
	return cached, cachedErr
}

// detectBatch types every item; a bad config fails every item with its reason.
func detectBatch(ctx cairn.Ctx, items []cairn.Item) []cairn.Outcome {
	var cfg Config
	err := ctx.DecodeConfig(&cfg)
	var d *detect.Detector
	if err == nil {
		d, err = detector(cfg)
	}
	out := make([]cairn.Outcome, len(items))
	for i, it := range items {
		if err != nil {
			out[i] = it.Fail(fmt.Errorf("filetype: config: %w", err))
			continue
		}
		out[i] = detectItem(d, it)
	}
	return out
}

// detectItem types one item; a read error or a panic fails only this item.
func detectItem(d *detect.Detector, it cairn.Item) (o cairn.Outcome) {
	defer func() {
		if p := recover(); p != nil {
			o = it.Fail(fmt.Errorf("filetype: %s: panic: %v", it.Name, p))
		}
	}()
	f, err := it.Open()
	if err != nil {
		return it.Fail(fmt.Errorf("filetype: open %s: %w", it.Name, err))
	}
	defer f.Close()
	size := it.Size
	if fi, err := f.Stat(); err == nil {
		size = fi.Size()
	}
	name := it.Name
	if name == "" {
		name = it.Path
	}
	res, err := d.DetectErr(name, f, size)
	if err != nil {
		return it.Fail(err)
	}
	return it.OK(res)
}
