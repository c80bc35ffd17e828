package wasm_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	extism "github.com/extism/go-sdk"
	"github.com/tetratelabs/wazero"

	"github.com/cairnfs/cairn/host/internal/hosttest"
)

// BenchmarkCloseOnContextDone measures what WithCloseOnContextDone costs a Go guest: wazero then
// calls a trampoline at every loop header, and Go's wasm code is loops everywhere. The guest
// decodes a 500-item stage batch with a reflection-free codec (guess_type_fast), with the
// setting off (unsafe: a spinning guest cannot be stopped and hangs the host's GC) and on (what
// host/wasm always uses).
func BenchmarkCloseOnContextDone(b *testing.B) {
	code := hosttest.Guest(b, "wordcount")
	ctx := context.Background()
	var sb strings.Builder
	sb.WriteString(`{"stage":"stage.x","version":1,"config":{},"items":[`)
	for i := 0; i < 500; i++ {
		if i > 0 {
			sb.WriteByte(',')
		}
		fmt.Fprintf(&sb, `{"content_uuid":"5b1a6c6e-0e0d-5f3a-9a59-%012d","cas_id":"af1349b9f5f9a1a6","size":100,"path":"/data/5b1a6c6e-0e0d-5f3a-9a59-0d2a4ad3c0e1/d%02d/f%04d.txt","name":"f%04d.txt"}`, i, i%50, i, i)
	}
	sb.WriteString(`]}`)
	input := []byte(sb.String())
	for _, on := range []bool{false, true} {
		b.Run(fmt.Sprintf("closeOnContextDone=%v", on), func(b *testing.B) {
			rc := wazero.NewRuntimeConfig().WithCloseOnContextDone(on).WithCompilationCache(wazero.NewCompilationCache())
			fn := extism.NewHostFunctionWithStack("call", func(context.Context, *extism.CurrentPlugin, []uint64) {},
				[]extism.ValueType{extism.ValueTypePTR}, []extism.ValueType{extism.ValueTypePTR})
			fn.SetNamespace("cairn:host/v1")
			cp, err := extism.NewCompiledPlugin(ctx, extism.Manifest{Wasm: []extism.Wasm{extism.WasmData{Data: code}}},
				extism.PluginConfig{EnableWasi: true, RuntimeConfig: rc}, []extism.HostFunction{fn})
			if err != nil {
				b.Fatal(err)
			}
			defer cp.Close(ctx)
			p, err := cp.Instance(ctx, extism.PluginInstanceConfig{})
			if err != nil {
				b.Fatal(err)
			}
			if _, _, err := p.CallWithContext(ctx, "guess_type_fast", input); err != nil {
				b.Fatal(err)
			}
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if _, _, err := p.CallWithContext(ctx, "guess_type_fast", input); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*500)/1000, "µs/file")
		})
	}
}
