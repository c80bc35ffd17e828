// Command good is a well-behaved extension that calls most of host ABI v1
// through sdk/cairn: the fixture of sdk/exttest's own tests, and the
// end-to-end test of sdk/cairn's host calls in a real Extism host.
package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"path"
	"strconv"

	"github.com/cairnfs/cairn/sdk/cairn"
)

func main() {}

type config struct {
	Tag string `json:"tag"`
}

var cfg = config{Tag: "text"}

var setup = cairn.Init(func(ctx cairn.Ctx) error {
	if ctx.Extension != "dev.cairn.exttest.good" || ctx.ABI == "" {
		return errors.New("cairn_init: unexpected " + ctx.Extension + " " + ctx.ABI)
	}
	return ctx.DecodeConfig(&cfg)
})

//go:wasmexport cairn_init
func cairnInit() int32 { return cairn.Run(setup) }

var good = cairn.Stage("stage.good", func(ctx cairn.Ctx, items []cairn.Item) []cairn.Outcome {
	// entries.read is scoped to notes/**: count what the scope shows.
	notes := 0
	for e, err := range cairn.QueryEntries(cairn.EntryQuery{Kind: "file", Limit: 2}) {
		if err != nil {
			return failAll(items, err)
		}
		notes++
		_ = e
	}
	out := make([]cairn.Outcome, len(items))
	for i, it := range items {
		out[i] = process(it, notes)
	}
	if err := cairn.Progress(int64(len(items)), int64(len(items)), "good"); err != nil {
		return failAll(items, err)
	}
	if err := cairn.Emit("dev.cairn.exttest.good.batch", map[string]int{"items": len(items)}); err != nil {
		return failAll(items, err)
	}
	return out
})

func process(it cairn.Item, notes int) cairn.Outcome {
	f, err := it.Open()
	if err != nil {
		return it.Fail(err)
	}
	data, err := io.ReadAll(f)
	f.Close()
	if err != nil {
		return it.Fail(err)
	}
	// The same bytes through the host.
	head, _, err := cairn.ReadContent(it.Target(), 0, 8)
	if err != nil {
		return it.Fail(err)
	}
	if !bytes.HasPrefix(data, head) {
		return it.Fail(errors.New("content.read and the /data mount disagree"))
	}
	if err := cairn.SetMetadata(it.Target(), "bytes", len(data)); err != nil {
		return it.Fail(err)
	}
	if err := cairn.KVSet("seen/"+it.ContentUUID, []byte(it.Name)); err != nil {
		return it.Fail(err)
	}
	if it.Kind == "text" {
		if err := cairn.ApplyTag(it.Target(), cfg.Tag, 1); err != nil {
			return it.Fail(err)
		}
	}
	return it.OK(map[string]any{"bytes": len(data), "notes": notes, "ext": path.Ext(it.Name)})
}

func failAll(items []cairn.Item, err error) []cairn.Outcome {
	out := make([]cairn.Outcome, len(items))
	for i, it := range items {
		out[i] = it.Fail(err)
	}
	return out
}

//go:wasmexport stage_good
func stageGood() int32 { return cairn.Run(good) }

var preview = cairn.Sidecar("preview", func(ctx cairn.Ctx, items []cairn.Item) []cairn.Outcome {
	out := make([]cairn.Outcome, len(items))
	for i, it := range items {
		f, err := it.Open()
		if err != nil {
			out[i] = it.Fail(err)
			continue
		}
		buf := make([]byte, 16)
		n, _ := io.ReadFull(f, buf)
		f.Close()
		p, err := cairn.WriteSidecar(cairn.SidecarFile{ContentUUID: it.ContentUUID, Kind: ctx.Kind, Variant: ctx.Variant,
			Format: "txt", Data: buf[:n]})
		if err != nil {
			out[i] = it.Fail(err)
			continue
		}
		out[i] = it.OK(map[string]string{"path": p})
	}
	return out
})

//go:wasmexport sidecar_preview
func sidecarPreview() int32 { return cairn.Run(preview) }

var loader = cairn.Loader("loader.good", func(ctx cairn.Ctx, items []cairn.Item) []cairn.FileType {
	var out []cairn.FileType
	for _, it := range items {
		if path.Ext(it.Name) == ".txt" {
			out = append(out, cairn.FileType{ContentUUID: it.ContentUUID, Mime: "text/plain", Kind: "text", Confidence: 0.5})
		}
	}
	return out
})

//go:wasmexport loader_good
func loaderGood() int32 { return cairn.Run(loader) }

var seen = cairn.Query("seen", func(ctx cairn.Ctx, args json.RawMessage) (any, error) {
	n := 0
	for _, err := range cairn.KVKeys("seen/") {
		if err != nil {
			return nil, err
		}
		n++
	}
	return map[string]string{"seen": strconv.Itoa(n)}, nil
})

//go:wasmexport query_seen
func querySeen() int32 { return cairn.Run(seen) }

// probe calls a function whose capability the extension did not request:
// the host must deny it with a typed error, and the extension go on.
var probe = cairn.Query("probe", func(ctx cairn.Ctx, args json.RawMessage) (any, error) {
	err := cairn.SetType("00000000-0000-4000-8000-000000000000", "text/plain", "text")
	res := map[string]any{"denied": cairn.IsDenied(err), "code": cairn.ErrorCode(err)}
	if err != nil {
		res["error"] = err.Error()
	}
	return res, nil
})

//go:wasmexport query_probe
func queryProbe() int32 { return cairn.Run(probe) }
