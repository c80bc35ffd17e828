package main

import (
	"errors"
	"fmt"
	"io"
	"unicode/utf8"

	"github.com/cairnfs/cairn/extensions/text/extract"
	"github.com/cairnfs/cairn/sdk/cairn"
)

func main() {} // a WASI reactor: the host calls the exports

// Config is the extension's configuration (cairn.toml [config]).
type Config struct {
	MaxInputBytes  int64 `json:"max_input_bytes"`  // 0: extract.DefaultMaxInput
	MaxOutputBytes int   `json:"max_output_bytes"` // 0: extract.DefaultMaxOutput
}

// The sidecar the stage writes.
const (
	SidecarKind    = "text"
	SidecarVariant = "plain"
	SidecarFormat  = "txt"
)

var textStage = cairn.Stage("stage.text", extractBatch)

//go:wasmexport stage_text
func stageText() int32 { return cairn.Run(textStage) }

func extractBatch(ctx cairn.Ctx, items []cairn.Item) []cairn.Outcome {
	var cfg Config
	err := ctx.DecodeConfig(&cfg)
	if err == nil && (cfg.MaxInputBytes < 0 || cfg.MaxOutputBytes < 0) {
		err = errors.New("config: max_input_bytes and max_output_bytes must not be negative")
	}
	lim := extract.Limits{MaxInput: cfg.MaxInputBytes, MaxOutput: cfg.MaxOutputBytes}
	out := make([]cairn.Outcome, len(items))
	for i, it := range items {
		if err != nil {
			out[i] = it.Fail(err)
			continue
		}
		out[i] = extractItem(it, lim)
	}
	return out
}

// extractItem extracts one file; a panic fails only this file.
func extractItem(it cairn.Item, lim extract.Limits) (o cairn.Outcome) {
	defer func() {
		if p := recover(); p != nil {
			o = it.Fail(fmt.Errorf("extract text of %s: internal error: %v", it.Name, p))
		}
	}()
	if extract.Detect(it.Name, it.Mime, nil, it.Size) == "" && it.Mime != "" && it.Mime != "application/octet-stream" {
		return it.OK(map[string]any{}) // no text in this type: do not even open it
	}
	f, err := it.Open()
	if err != nil {
		return it.Fail(fmt.Errorf("open %s: %w", it.Name, err))
	}
	defer f.Close()
	size := it.Size
	if st, err := f.Stat(); err == nil {
		size = st.Size()
	}
	res, err := extract.Extract(it.Name, it.Mime, f, size, lim)
	if errors.Is(err, extract.ErrUnsupported) {
		return it.OK(map[string]any{})
	}
	if err != nil {
		return it.Fail(err)
	}
	if res.Text == "" { // nothing to search: no sidecar
		data := map[string]any{"chars": 0, "format": res.Format, "truncated": false}
		if res.Compression != "" {
			data["compression"] = res.Compression
		}
		return it.OK(data)
	}
	self, err := isOwnText(f, size, res)
	if err != nil {
		return it.Fail(err)
	}
	if self { // already plain UTF-8 text: the content is its own sidecar, no copy
		err = cairn.ContentIsSidecar(it.ContentUUID, SidecarKind, SidecarVariant, SidecarFormat)
	} else {
		_, err = cairn.WriteSidecar(cairn.SidecarFile{ContentUUID: it.ContentUUID, Kind: SidecarKind,
			Variant: SidecarVariant, Format: SidecarFormat, Data: []byte(res.Text)})
	}
	if err != nil {
		return it.Fail(fmt.Errorf("write the text sidecar: %w", err))
	}
	data := map[string]any{"chars": utf8.RuneCountInString(res.Text), "format": res.Format, "truncated": res.Truncated}
	if self {
		data["storage"] = cairn.StorageContent
	}
	if res.Compression != "" {
		data["compression"] = res.Compression
	}
	if res.Pages > 0 {
		data["pages"] = res.Pages
	}
	if res.Title != "" {
		data["title"] = res.Title
	}
	return it.OK(data)
}

// isOwnText reports whether the extracted text is the file's bytes exactly (plain UTF-8, no
// byte-order mark, no CR, nothing cut), so that the file can stand as its own text sidecar.
func isOwnText(r io.ReaderAt, size int64, res extract.Result) (bool, error) {
	if res.Format != "plain" || res.Compression != "" || res.Truncated || int64(len(res.Text)) != size {
		return false, nil
	}
	buf := make([]byte, min(size, 256<<10))
	for off := int64(0); off < size; {
		n, err := r.ReadAt(buf[:min(int64(len(buf)), size-off)], off)
		if n > 0 && string(buf[:n]) != res.Text[off:off+int64(n)] {
			return false, nil
		}
		off += int64(n)
		if err != nil && !(errors.Is(err, io.EOF) && off == size) {
			return false, fmt.Errorf("compare the text with the file: %w", err)
		}
	}
	return true, nil
}
