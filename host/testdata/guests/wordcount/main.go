// Command wordcount is a well-behaved test guest: two pipeline stages (host ABI v1 "stage"
// export) and a few small exports. The host's tests run it beside the hostile guest and check
// that it keeps working; the benchmarks run its stages against the same stages in native Go.
//
// Build: GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -o wordcount.wasm .
package main

import (
	"bytes"
	"errors"
	"os"
	"path"
	"strings"

	"github.com/cairnfs/cairn/sdk/pdk"
)

func main() {}

// Item, StageInput, Outcome and StageOutput are the v1 stage messages.
type Item struct {
	ContentUUID string `json:"content_uuid"`
	CasID       string `json:"cas_id"`
	Size        int64  `json:"size"`
	Path        string `json:"path"`
	Name        string `json:"name"`
}

type StageInput struct {
	Stage   string         `json:"stage"`
	Version int            `json:"version"`
	Config  map[string]any `json:"config"`
	Items   []Item         `json:"items"`
}

type Outcome struct {
	ContentUUID string         `json:"content_uuid"`
	Error       string         `json:"error,omitempty"`
	Data        map[string]any `json:"data,omitempty"`
}

type StageOutput struct {
	Outcomes []Outcome `json:"outcomes"`
}

func stage(per func(it Item) (map[string]any, error)) int32 {
	return pdk.Export(func() error {
		var in StageInput
		if err := pdk.InputJSON(&in); err != nil {
			return err
		}
		out := StageOutput{Outcomes: make([]Outcome, len(in.Items))}
		for i, it := range in.Items {
			out.Outcomes[i].ContentUUID = it.ContentUUID
			data, err := per(it)
			if err != nil {
				out.Outcomes[i].Error = err.Error()
				continue
			}
			out.Outcomes[i].Data = data
		}
		return pdk.OutputJSON(out)
	})
}

// count_words reads each item's file from the /data mount and counts its words.
//
//go:wasmexport count_words
func countWords() int32 {
	return stage(func(it Item) (map[string]any, error) {
		if it.Path == "" {
			return nil, errors.New("no readable path")
		}
		b, err := os.ReadFile(it.Path)
		if err != nil {
			return nil, err
		}
		return map[string]any{"words": len(bytes.Fields(b))}, nil
	})
}

// guess_type guesses a type from the item's name alone (no file access): a stage whose cost is
// almost all per-item overhead.
//
//go:wasmexport guess_type
func guessType() int32 {
	return stage(func(it Item) (map[string]any, error) {
		ext := strings.ToLower(strings.TrimPrefix(path.Ext(it.Name), "."))
		kind := map[string]string{"jpg": "image", "png": "image", "txt": "text", "md": "text", "pdf": "document"}[ext]
		if kind == "" {
			kind = "unknown"
		}
		return map[string]any{"ext": ext, "kind": kind}, nil
	})
}

//go:wasmexport noop
func noop() int32 { return pdk.Export(func() error { return nil }) }

// readfile outputs the bytes of the file named by the input.
//
//go:wasmexport readfile
func readfile() int32 {
	return pdk.ExportBytes(func(in []byte) ([]byte, error) { return os.ReadFile(string(in)) })
}

// hostcall sends its input (an encoded host ABI request) to cairn:host/v1 call and outputs the
// response.
//
//go:wasmexport hostcall
func hostcall() int32 {
	return pdk.ExportBytes(func(in []byte) ([]byte, error) { return pdk.CallHost(cairnCall, in), nil })
}

var initInput []byte

// cairn_init keeps its input; init_input returns it.
//
//go:wasmexport cairn_init
func cairnInit() int32 {
	return pdk.Export(func() error {
		initInput = pdk.Input()
		pdk.OutputString("{}")
		return nil
	})
}

//go:wasmexport init_input
func initInputExport() int32 {
	return pdk.ExportBytes(func([]byte) ([]byte, error) { return initInput, nil })
}

// fastStage is stage with the reflection-free codec of fastjson.go. per writes the item's data
// fields with w.Str and w.Int, or returns an error (and writes nothing).
func fastStage(per func(it Item, w *outWriter) error) int32 {
	return pdk.Export(func() error {
		in, err := parseStageInput(pdk.Input())
		if err != nil {
			return err
		}
		w := &outWriter{b: make([]byte, 0, 96*len(in.Items))}
		for _, it := range in.Items {
			w.begin(it.ContentUUID)
			if err := per(it, w); err != nil {
				w.fail(err.Error())
			}
			w.end()
		}
		pdk.Output(w.finish())
		return nil
	})
}

func kindOf(ext string) string {
	switch ext {
	case "jpg", "png":
		return "image"
	case "txt", "md":
		return "text"
	case "pdf":
		return "document"
	}
	return "unknown"
}

// guess_type_fast is guess_type with the reflection-free codec.
//
//go:wasmexport guess_type_fast
func guessTypeFast() int32 {
	return fastStage(func(it Item, w *outWriter) error {
		ext := strings.ToLower(strings.TrimPrefix(path.Ext(it.Name), "."))
		w.Str("ext", ext)
		w.Str("kind", kindOf(ext))
		return nil
	})
}

// count_words_fast is count_words with the reflection-free codec.
//
//go:wasmexport count_words_fast
func countWordsFast() int32 {
	return fastStage(func(it Item, w *outWriter) error {
		if it.Path == "" {
			return errors.New("no readable path")
		}
		b, err := os.ReadFile(it.Path)
		if err != nil {
			return err
		}
		w.Int("words", int64(len(bytes.Fields(b))))
		return nil
	})
}
