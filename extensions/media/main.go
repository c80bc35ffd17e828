package main

import (
	"errors"
	"fmt"

	"github.com/cairnfs/cairn/extensions/media/probe"
	"github.com/cairnfs/cairn/sdk/cairn"
)

func main() {} // a WASI reactor: the host calls the exports

var media = cairn.StageEach("stage.media", probeItem)

//go:wasmexport stage_media
func stageMedia() int32 { return cairn.Run(media) }

// probeItem probes one file: its Info, {} for a format probe does not read,
// or the error of a malformed file.
func probeItem(_ cairn.Ctx, it cairn.Item) (any, error) {
	f, err := it.Open()
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("stat %s: %w", it.Name, err)
	}
	info, err := probe.Probe(it.Name, it.Mime, f, st.Size())
	if errors.Is(err, probe.ErrUnsupported) {
		return map[string]any{}, nil
	}
	if err != nil {
		return nil, err
	}
	return info, nil
}
