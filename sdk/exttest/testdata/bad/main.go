// Command bad breaks every rule sdk/exttest checks, each in a way a real
// extension could: the negative fixture of sdk/exttest's tests.
package main

import (
	"encoding/json"

	"github.com/cairnfs/cairn/sdk/cairn"
	"github.com/cairnfs/cairn/sdk/pdk"
)

func main() {}

var (
	calls    int      // state kept between calls leaks into outputs
	retained [][]byte // memory kept forever
)

type input struct {
	Items []cairn.Item `json:"items"`
}

//go:wasmexport stage_bad
func stageBad() int32 {
	// Decoding outside pdk.Export: a malformed input panics, which traps
	// and kills the instance instead of failing the call.
	var in input
	if err := json.Unmarshal(pdk.Input(), &in); err != nil {
		panic(err)
	}
	return pdk.Export(func() error {
		calls++
		retained = append(retained, make([]byte, 512<<10))
		if len(in.Items) > 1000 {
			for { // a large batch spins: only the host's deadline stops it
			}
		}
		var outcomes []map[string]any
		for i, it := range in.Items {
			if i == len(in.Items)-1 && i > 0 {
				break // one outcome short
			}
			// tags.write was never requested.
			_ = cairn.ApplyTag(it.Target(), "bad", 1)
			outcomes = append(outcomes, map[string]any{"content_uuid": it.ContentUUID, "data": map[string]int{"call": calls}})
		}
		if outcomes == nil {
			outcomes = []map[string]any{}
		}
		return pdk.OutputJSON(map[string]any{"outcomes": outcomes})
	})
}
