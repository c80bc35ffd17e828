//go:build !wasip1

package cairn_test

import (
	"fmt"

	"github.com/cairnfs/cairn/sdk/cairn"
)

// A stage that records each item's size as metadata, run natively through
// its Handle method with a stand-in host that accepts every call. In a
// module the export is the one-liner
//
//	//go:wasmexport stage_sizes
//	func stageSizes() int32 { return cairn.Run(sizes) }
func ExampleStageEach() {
	sizes := cairn.StageEach("stage.sizes", func(ctx cairn.Ctx, it cairn.Item) (any, error) {
		if err := cairn.SetMetadata(it.Target(), "size", it.Size); err != nil {
			return nil, err
		}
		return map[string]int64{"size": it.Size}, nil
	})

	restore := cairn.SetHost(func(request []byte) []byte {
		fmt.Printf("host call: %s\n", request)
		return []byte(`{"ok":null}`)
	})
	defer restore()

	out, err := sizes.Handle([]byte(`{"stage":"stage.sizes","version":1,"items":[{"content_uuid":"c1","size":42}]}`))
	fmt.Println(string(out), err)
	// Output:
	// host call: {"fn":"metadata.set","args":{"target":{"content_uuid":"c1"},"key":"size","value":42}}
	// {"outcomes":[{"content_uuid":"c1","data":{"size":42}}]} <nil>
}
