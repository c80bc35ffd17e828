// Command hellonative is Cairn's example native extension: a go-plugin process built with
// sdk/plugin. Its stage stage.hellonative returns each item's name length as the item's data and
// counts the items it has seen in its key-value store. Native extensions are not sandboxed like
// WASM ones: use them for what needs native code (ffmpeg, GPUs), and request capabilities as
// narrowly as a WASM extension would — every host call is checked the same way.
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/cairnfs/cairn/sdk/plugin"
)

type item struct {
	ContentUUID string `json:"content_uuid"`
	Name        string `json:"name"`
}

type batch struct {
	Stage string `json:"stage"`
	Items []item `json:"items"`
}

type outcome struct {
	ContentUUID string         `json:"content_uuid"`
	Error       string         `json:"error,omitempty"`
	Data        map[string]int `json:"data,omitempty"`
}

// stage handles one stage batch (schemas/hostabi/v1.md "stage").
func stage(ctx context.Context, host plugin.Host, input []byte) ([]byte, error) {
	var b batch
	if err := json.Unmarshal(input, &b); err != nil {
		return nil, fmt.Errorf("decoding the stage batch: %w", err)
	}
	out := struct {
		Outcomes []outcome `json:"outcomes"`
	}{Outcomes: make([]outcome, 0, len(b.Items))}
	for _, it := range b.Items {
		out.Outcomes = append(out.Outcomes, outcome{ContentUUID: it.ContentUUID, Data: map[string]int{"name_length": len(it.Name)}})
	}
	if err := count(ctx, host, len(b.Items)); err != nil {
		return nil, err
	}
	return json.Marshal(out)
}

// count adds n to the "items" counter in the extension's key-value store.
func count(ctx context.Context, host plugin.Host, n int) error {
	raw, err := host.Call(ctx, "kv.get", map[string]string{"key": "items"})
	if err != nil {
		return err
	}
	var got struct{ Value []byte }
	if err := json.Unmarshal(raw, &got); err != nil {
		return err
	}
	total, _ := strconv.Atoi(string(got.Value))
	_, err = host.Call(ctx, "kv.set", map[string]any{"key": "items", "value": []byte(strconv.Itoa(total + n))})
	return err
}

// probe asks for something it was not granted, for tests of the host's capability checks.
func probe(ctx context.Context, host plugin.Host, input []byte) ([]byte, error) {
	_, err := host.Call(ctx, string(input), map[string]any{"key": "x", "value": map[string]int{"a": 1}, "target": map[string]int{"entry_id": 1}})
	if err != nil {
		return []byte(err.Error()), nil
	}
	return []byte("ok"), nil
}

func main() {
	plugin.Serve(map[string]plugin.Export{"stage_hellonative": stage, "probe": probe})
}
