package main

import (
	"errors"
	"fmt"
	"runtime"
	"strconv"

	"github.com/cairnfs/cairn/extensions/thumbnail/thumb"
	"github.com/cairnfs/cairn/sdk/cairn"
)

func main() {} // a WASI reactor: the host calls the exports

// SidecarKind is the kind of the sidecars the stage writes.
const SidecarKind = "thumb"

// Config is the extension's configuration (cairn.toml [config]).
type Config struct {
	Variants      []int   `json:"variants"`       // longest edges; nil means [256, 1024]
	MaxMegapixels float64 `json:"max_megapixels"` // 0 means 100
	Quality       int     `json:"quality"`        // 0 means 80
}

// options turns the config into thumb's options.
func (c Config) options() thumb.Options {
	return thumb.Options{
		Variants: c.Variants,
		Limits:   thumb.Limits{MaxPixels: int64(c.MaxMegapixels * 1e6)},
		Quality:  c.Quality,
	}
}

// Variant is one thumbnail in an item's outcome data.
type Variant struct {
	Variant string `json:"variant"`
	Width   int    `json:"width"`
	Height  int    `json:"height"`
	Format  string `json:"format"`
	// Storage is "content" when the image is its own thumbnail for this variant (no copy).
	Storage string `json:"storage,omitempty"`
}

// Result is an item's outcome data.
type Result struct {
	Variants    []Variant `json:"variants,omitempty"`
	Unsupported string    `json:"unsupported,omitempty"`
}

var thumbnail = cairn.Stage("stage.thumbnail", thumbBatch)

//go:wasmexport stage_thumbnail
func stageThumbnail() int32 { return cairn.Run(thumbnail) }

// thumbBatch makes and stores the thumbnails of each item.
func thumbBatch(ctx cairn.Ctx, items []cairn.Item) []cairn.Outcome {
	var cfg Config
	err := ctx.DecodeConfig(&cfg)
	if err != nil {
		err = fmt.Errorf("reading the thumbnail config: %w", err)
	}
	out := make([]cairn.Outcome, len(items))
	for i, it := range items {
		if err != nil {
			out[i] = it.Fail(err)
			continue
		}
		out[i] = thumbItem(it, cfg.options())
		// Collect each image's buffers (megabytes per image) now: left to
		// the pacer, a guest's linear memory, which never shrinks, creeps up
		// from fragmentation. A collection of the small live heap takes ~1 ms.
		runtime.GC()
	}
	return out
}

// thumbItem makes one item's thumbnails; a panic becomes the item's error.
func thumbItem(it cairn.Item, opts thumb.Options) (o cairn.Outcome) {
	defer func() {
		if p := recover(); p != nil {
			o = it.Fail(fmt.Errorf("making thumbnails of %s: crashed: %v", it.Name, p))
		}
	}()
	res, err := makeThumbs(it, opts)
	if err != nil {
		return it.Fail(err)
	}
	return it.OK(res)
}

func makeThumbs(it cairn.Item, opts thumb.Options) (Result, error) {
	f, err := it.Open()
	if err != nil {
		return Result{}, fmt.Errorf("opening %s: %w", it.Name, err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return Result{}, fmt.Errorf("opening %s: %w", it.Name, err)
	}
	thumbs, err := thumb.Generate(f, st.Size(), it.Mime, opts)
	if errors.Is(err, thumb.ErrUnsupported) { // a fact about the format, not a failure
		return Result{Unsupported: err.Error()}, nil
	}
	if err != nil {
		return Result{}, err
	}
	res := Result{Variants: make([]Variant, 0, len(thumbs))}
	for _, t := range thumbs {
		v := strconv.Itoa(t.Variant)
		vr := Variant{Variant: v, Width: t.Width, Height: t.Height, Format: t.Format}
		if t.Original { // no larger than the variant: the image is its own thumbnail
			vr.Storage = cairn.StorageContent
			err = cairn.ContentIsSidecar(it.ContentUUID, SidecarKind, v, t.Format)
		} else {
			_, err = cairn.WriteSidecar(cairn.SidecarFile{ContentUUID: it.ContentUUID, Kind: SidecarKind, Variant: v,
				Format: t.Format, Data: t.Data})
		}
		if err != nil {
			return Result{}, fmt.Errorf("storing the %s px thumbnail: %w", v, err)
		}
		res.Variants = append(res.Variants, vr)
	}
	return res, nil
}
