package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/cairnfs/cairn/core/library"
	"github.com/cairnfs/cairn/core/store"
)

// Where first-party stages leave their per-content output (host: metadata of the content in
// the extension's namespace, key "stage:<stage id>").
const (
	mediaNS, mediaKey       = "dev.cairn.media", "stage:stage.media"
	filetypeNS, filetypeKey = "dev.cairn.filetype", "stage:stage.filetype"
	textNS, textKey         = "dev.cairn.text", "stage:stage.text"
)

// addDerived fills what the pipeline found about a content: media metadata, file-type detail,
// text extraction, sidecars and the stage ledger.
func addDerived(ctx context.Context, lib *library.Library, contentID int64, j *entryJSON) error {
	md, err := lib.Store.MetadataOf(ctx, contentID)
	if err != nil {
		return err
	}
	j.Media = nonEmptyObject(md[mediaNS][mediaKey])
	j.FileType = nonEmptyObject(md[filetypeNS][filetypeKey])
	j.Text = nonEmptyObject(md[textNS][textKey])
	scs, err := lib.Store.SidecarsOf(ctx, contentID, "")
	if err != nil {
		return err
	}
	for _, sc := range scs {
		j.Sidecars = append(j.Sidecars, toSidecarJSON(lib, sc, j.Path))
	}
	j.Stages, err = lib.Store.StagesOf(ctx, contentID)
	return err
}

// toSidecarJSON is a sidecar record as show and sidecar ls print it; a failed whole-kind record
// (variant "*") has no file, and a sidecar stored as the content itself is file, the content's
// file being shown.
func toSidecarJSON(lib *library.Library, sc store.Sidecar, file string) sidecarJSON {
	return sidecarJSON{Kind: sc.Kind, Variant: sc.Variant, Format: sc.Format, Status: sc.Status, Storage: sc.Storage,
		Path: sc.File(lib.Dir, file), Size: sc.Size, Checksum: sc.Checksum, Source: sc.Source, Error: sc.Error}
}

// nonEmptyObject returns raw unless it is absent, null or an empty object.
func nonEmptyObject(raw json.RawMessage) json.RawMessage {
	t := bytes.TrimSpace(raw)
	if len(t) == 0 || string(t) == "null" || string(t) == "{}" {
		return nil
	}
	return raw
}

// printDerived prints the derived data of show's text output: the type, sidecars, the stage
// ledger, then a section per extension with what it recorded.
func printDerived(w io.Writer, j entryJSON) {
	if j.Mime != nil {
		fmt.Fprintf(w, "type:      %s\n", *j.Mime)
	}
	for _, sc := range j.Sidecars {
		line := fmt.Sprintf("sidecar:   %s/%s %s %s", sc.Kind, sc.Variant, sc.Format, sc.Status)
		if sc.Path != "" {
			line += " " + sc.Path
		}
		if sc.Error != "" {
			line += " (" + sc.Error + ")"
		}
		fmt.Fprintln(w, line)
	}
	for _, st := range j.Stages {
		line := fmt.Sprintf("stage:     %s v%d %s", st.Stage, st.Version, st.Status)
		if st.Error != "" {
			line += ": " + firstLine(st.Error)
		}
		fmt.Fprintln(w, line)
	}
	ids := make([]string, 0, len(j.Extensions))
	for id := range j.Extensions {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		d := j.Extensions[id]
		var rows [][2]string
		for _, part := range []struct {
			label string
			m     map[string]json.RawMessage
		}{{"", d.Stages}, {"", d.Metadata}, {"entry ", d.EntryMetadata}} {
			for _, k := range sortedKeys(part.m) {
				rows = append(rows, [2]string{part.label + k + ":", showValue(part.m[k])})
			}
		}
		if len(d.Tags) > 0 {
			rows = append(rows, [2]string{"tags:", strings.Join(d.Tags, ", ")})
		}
		width := 0
		for _, r := range rows {
			width = max(width, len(r[0]))
		}
		fmt.Fprintf(w, "\nextension %s:\n", id)
		for _, r := range rows {
			fmt.Fprintf(w, "  %-*s %s\n", width, r[0], r[1])
		}
	}
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// showValue prints a recorded JSON value on one line: an object as key=value pairs in key
// order, anything else as its JSON; long values are cut at 200 characters.
func showValue(raw json.RawMessage) string {
	var out string
	var m map[string]json.RawMessage
	if json.Unmarshal(raw, &m) == nil && m != nil {
		var kv []string
		for _, k := range sortedKeys(m) {
			kv = append(kv, k+"="+compactJSON(m[k]))
		}
		out = strings.Join(kv, " ")
	} else {
		out = compactJSON(raw)
	}
	if r := []rune(out); len(r) > 200 {
		out = string(r[:200]) + " …"
	}
	return out
}

func compactJSON(raw json.RawMessage) string {
	var b bytes.Buffer
	if json.Compact(&b, raw) != nil {
		return string(raw)
	}
	return b.String()
}
