package stage

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/cairnfs/cairn/extensions/mediathumb/frame"
	"github.com/cairnfs/cairn/sdk/cairn"
	"github.com/cairnfs/cairn/sdk/plugin"
)

// SidecarKind is the kind of the sidecars the stage writes.
const SidecarKind = "thumb"

// Config is the extension's configuration (cairn.toml [config]).
type Config struct {
	Variants    []int   `json:"variants"`
	Quality     int     `json:"quality"`
	TimeoutS    float64 `json:"timeout_s"`
	MaxPDFBytes int64   `json:"max_pdf_bytes"`
}

func (c Config) options() frame.Options {
	return frame.Options{Variants: c.Variants, Quality: c.Quality,
		Timeout: time.Duration(c.TimeoutS * float64(time.Second)), MaxPDFBytes: c.MaxPDFBytes}
}

// Variant is one thumbnail in an item's outcome data.
type Variant struct {
	Variant string `json:"variant"`
	Width   int    `json:"width"`
	Height  int    `json:"height"`
	Format  string `json:"format"`
}

// Result is an item's outcome data.
type Result struct {
	Variants []Variant `json:"variants,omitempty"`
	Tool     string    `json:"tool,omitempty"`
	FrameAt  *float64  `json:"frame_at_s,omitempty"`
	Skipped  string    `json:"skipped,omitempty"`
}

type batch struct {
	Stage  string          `json:"stage"`
	Config json.RawMessage `json:"config"`
	Items  []cairn.Item    `json:"items"`
}

// stage handles one stage batch (schemas/hostabi/v1.md "stage").
func stage(ctx context.Context, host plugin.Host, input []byte) ([]byte, error) {
	var b batch
	if err := json.Unmarshal(input, &b); err != nil {
		return nil, fmt.Errorf("decoding the stage batch: %w", err)
	}
	if b.Stage != "" && b.Stage != "stage.mediathumb" {
		return nil, fmt.Errorf("decoding the stage batch: stage %q is not stage.mediathumb", b.Stage)
	}
	var cfg Config
	var cfgErr error
	if len(b.Config) > 0 && string(b.Config) != "null" {
		if err := json.Unmarshal(b.Config, &cfg); err != nil {
			cfgErr = fmt.Errorf("reading the mediathumb config: %w", err)
		}
	}
	out := struct {
		Outcomes []cairn.Outcome `json:"outcomes"`
	}{Outcomes: make([]cairn.Outcome, 0, len(b.Items))}
	for _, it := range b.Items {
		if cfgErr != nil {
			out.Outcomes = append(out.Outcomes, it.Fail(cfgErr))
			continue
		}
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("stage.mediathumb stopped: %w", err)
		}
		out.Outcomes = append(out.Outcomes, item(ctx, host, it, cfg.options()))
	}
	return json.Marshal(out)
}

// item makes one item's thumbnails; a panic becomes the item's error.
func item(ctx context.Context, host plugin.Host, it cairn.Item, opts frame.Options) (o cairn.Outcome) {
	defer func() {
		if p := recover(); p != nil {
			o = it.Fail(fmt.Errorf("making thumbnails of %s: crashed: %v", it.Name, p))
		}
	}()
	var res frame.Result
	var err error
	var tool string
	switch what(it) {
	case "video":
		tool = "ffmpeg"
		res, err = frame.Video(ctx, it.Path, opts)
	case "pdf":
		tool = "pdftoppm"
		res, err = frame.PDF(ctx, it.Path, opts)
	default:
		return it.OK(Result{Skipped: "not a video or PDF (kind " + quoted(it.Kind) + ", mime " + quoted(it.Mime) + ")"})
	}
	if err != nil {
		return it.Fail(err)
	}
	out := Result{Tool: tool, Variants: make([]Variant, 0, len(res.Thumbs))}
	if tool == "ffmpeg" {
		at := res.FrameAt
		out.FrameAt = &at
	}
	for _, t := range res.Thumbs {
		v := strconv.Itoa(t.Variant)
		if _, err := host.Call(ctx, "sidecar.write", cairn.SidecarFile{ContentUUID: it.ContentUUID, Kind: SidecarKind,
			Variant: v, Format: t.Format, Data: t.Data}); err != nil {
			return it.Fail(fmt.Errorf("storing the %s px thumbnail: %w", v, err))
		}
		out.Variants = append(out.Variants, Variant{Variant: v, Width: t.Width, Height: t.Height, Format: t.Format})
	}
	return it.OK(out)
}

// what says how an item is thumbnailed: "video", "pdf" or "" (skipped).
func what(it cairn.Item) string {
	switch {
	case it.Kind == "video" || strings.HasPrefix(it.Mime, "video/"):
		return "video"
	case it.Mime == "application/pdf":
		return "pdf"
	}
	return ""
}

func quoted(s string) string {
	if s == "" {
		return "unknown"
	}
	return s
}

// Exports are the extension's exports, for plugin.Serve.
func Exports() map[string]plugin.Export {
	return map[string]plugin.Export{"stage_mediathumb": stage}
}
