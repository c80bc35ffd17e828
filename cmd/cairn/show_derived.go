package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"path/filepath"
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
		j.Sidecars = append(j.Sidecars, toSidecarJSON(lib, sc))
	}
	j.Stages, err = lib.Store.StagesOf(ctx, contentID)
	return err
}

// toSidecarJSON is a sidecar record as show and sidecar ls print it; a failed whole-kind record
// (variant "*") has no file.
func toSidecarJSON(lib *library.Library, sc store.Sidecar) sidecarJSON {
	sj := sidecarJSON{Kind: sc.Kind, Variant: sc.Variant, Format: sc.Format, Status: sc.Status, Size: sc.Size,
		Checksum: sc.Checksum, Source: sc.Source, Error: sc.Error}
	if sc.Variant != "*" {
		sj.Path = filepath.Join(lib.Dir, filepath.FromSlash(sc.Rel()))
	}
	return sj
}

// nonEmptyObject returns raw unless it is absent, null or an empty object.
func nonEmptyObject(raw json.RawMessage) json.RawMessage {
	t := bytes.TrimSpace(raw)
	if len(t) == 0 || string(t) == "null" || string(t) == "{}" {
		return nil
	}
	return raw
}

// printDerived prints the derived data of show's text output.
func printDerived(w io.Writer, j entryJSON) {
	if j.Mime != nil {
		fmt.Fprintf(w, "type:      %s\n", *j.Mime)
	}
	for _, part := range []struct {
		label string
		raw   json.RawMessage
	}{{"media", j.Media}, {"text", j.Text}} {
		if part.raw == nil {
			continue
		}
		var m map[string]any
		if json.Unmarshal(part.raw, &m) != nil {
			continue
		}
		keys := make([]string, 0, len(m))
		for k := range m {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		var kv []string
		for _, k := range keys {
			b, _ := json.Marshal(m[k])
			kv = append(kv, k+"="+string(b))
		}
		fmt.Fprintf(w, "%-10s %s\n", part.label+":", strings.Join(kv, " "))
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
}
