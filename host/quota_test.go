package host_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/cairnfs/cairn/core/pipeline"
	"github.com/cairnfs/cairn/host"
	"github.com/cairnfs/cairn/host/abi"
	"github.com/cairnfs/cairn/host/capability"
	"github.com/cairnfs/cairn/host/ext"
	"github.com/cairnfs/cairn/host/internal/hosttest"
	"github.com/cairnfs/cairn/host/modules"
	"github.com/cairnfs/cairn/schemas/manifest"
)

// loadGuest loads the hostile guest as dev.test.hostile.<name> with the capabilities given
// (requested and granted alike), stages and limits.
func (w *world) loadGuest(t *testing.T, name string, caps capability.Grant, limits host.Limits, stages ...manifest.Stage) *host.Extension {
	t.Helper()
	req := map[string]manifest.Scope{}
	for k, v := range caps {
		req[k] = v
	}
	x, err := w.h.Load(context.Background(), host.Spec{
		Manifest: manifestFor("dev.test.hostile."+name, req, stages...),
		Wasm:     hosttest.Guest(t, "hostile"),
		Grant:    caps,
		Limits:   limits,
	})
	if err != nil {
		t.Fatal(err)
	}
	w.unloadAtEnd(t, x)
	return x
}

func (w *world) auditRows(t *testing.T, actor string) (rows int, repeats int64) {
	t.Helper()
	r, err := w.lib.Store.SQL().Query(`SELECT detail FROM audit_log WHERE actor = ?`, actor)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	for r.Next() {
		var detail string
		r.Scan(&detail)
		var d struct{ Repeats, Denials int64 }
		json.Unmarshal([]byte(detail), &d)
		rows++
		repeats += d.Repeats + d.Denials
	}
	return rows, repeats
}

// TestHostileQuotas: a guest granted nothing cannot fill the disk or the logs. The attacks
// wrote 55k audit rows and 11.8 MB of database per file in 25 s through denied calls, 15 MiB
// of outcome data per item, and 77 MB of stderr per file through log calls.
func TestHostileQuotas(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()

	t.Run("repeated denials are audited once, counted, and fault the call", func(t *testing.T) {
		x := w.loadGuest(t, "denyloop", nil, host.Limits{})
		out, err := call(x, "denyloop", "1000")
		if !errors.Is(err, ext.ErrQuota) || !ext.IsFault(err) {
			t.Fatalf("1000 denied calls in one call: %q, %v; want a quota fault", out, err)
		}
		t.Log(err)
		if rows, _ := w.auditRows(t, x.ID()); rows != 1 {
			t.Errorf("audit rows after 1000 identical denials = %d, want 1", rows)
		}
		if x.Disabled() {
			t.Error("disabled after one faulty call")
		}
		// The second thousand passes the run's quota of denials: disabled, host calls refused.
		if _, err := call(x, "denyloop", "1000"); !errors.Is(err, ext.ErrQuota) {
			t.Fatalf("second call: %v", err)
		}
		if !x.Disabled() {
			t.Fatal("not disabled after 2000 denied calls")
		}
		if _, err := call(x, "noop", ""); !errors.Is(err, ext.ErrDisabled) {
			t.Errorf("call while disabled: %v", err)
		}
		if s := x.Caller.Stats(); s.Denied != abi.DefaultDenials+1 || s.Limited == 0 {
			t.Errorf("caller stats = %+v: want the denials to stop at the quota and the rest refused", s)
		}
		x.Enable()
		if _, e := hostCall(t, x, "config.get", nil); e != nil {
			t.Errorf("host call after Enable: %+v", e)
		}
		if err := w.h.Unload(ctx, x.ID()); err != nil {
			t.Fatal(err)
		}
		rows, repeats := w.auditRows(t, x.ID())
		if rows != 2 || repeats != abi.DefaultDenials {
			t.Errorf("audit after unload: %d rows, %d repeats counted; want 2 rows, %d repeats", rows, repeats, abi.DefaultDenials)
		}
		w.assertGood(t)
	})

	t.Run("denials of many reasons stop at the audit quota", func(t *testing.T) {
		x := w.loadGuest(t, "denyvary", capability.Grant{"entries.read": {Locations: []string{w.public}}}, host.Limits{Quotas: abi.Quotas{DenialsPerCall: -1}})
		if _, err := call(x, "denyvary", "500"); err != nil {
			t.Fatal(err)
		}
		if rows, _ := w.auditRows(t, x.ID()); rows != abi.DefaultAuditRows {
			t.Errorf("audit rows after 500 distinct denials = %d, want %d", rows, abi.DefaultAuditRows)
		}
		if err := w.h.Unload(ctx, x.ID()); err != nil {
			t.Fatal(err)
		}
		if rows, n := w.auditRows(t, x.ID()); rows != abi.DefaultAuditRows+1 || n != 500-abi.DefaultAuditRows {
			t.Errorf("audit after unload: %d rows counting %d more; want %d and %d", rows, n, abi.DefaultAuditRows+1, 500-abi.DefaultAuditRows)
		}
	})

	t.Run("log floods are cut at the log quotas", func(t *testing.T) {
		x := w.loadGuest(t, "logflood", nil, host.Limits{Call: ext.Limits{Timeout: 2 * time.Minute}})
		for i := 0; i < 3; i++ {
			if _, err := call(x, "logflood", "30"); err != nil {
				t.Fatal(err)
			}
		}
		// Per call: 64 KiB through log, 64 KiB through stdout, stderr and Extism's log, and notes.
		got := w.logs.bytes(x.ID())
		t.Logf("logged %d KiB for 3 calls that tried ~%d MiB", got>>10, 3*30*(16+32+4+16)>>10)
		if got > 3*(2*64<<10+8<<10) {
			t.Errorf("logged %d bytes in 3 calls, want at most %d", got, 3*(2*64<<10+8<<10))
		}
	})

	t.Run("outcome data over the limits fails the item or the batch", func(t *testing.T) {
		x := w.loadGuest(t, "bigdata", nil, host.Limits{Outcomes: modules.OutcomeLimits{ItemData: 250 << 10, BatchData: 600 << 10}},
			manifest.Stage{ID: "stage.hostile.bigdata", Export: "bigdata", Version: 1})
		st, err := w.h.Registry().Stage("stage.hostile.bigdata")
		if err != nil {
			t.Fatal(err)
		}
		items := func(keys ...string) []pipeline.Item {
			var out []pipeline.Item
			for _, k := range keys {
				f := w.lib.Files[k]
				out = append(out, pipeline.Item{ContentID: f.ContentID, ContentUUID: f.ContentUUID, CasID: f.CasID, Size: f.Size, Path: f.Abs})
			}
			return out
		}
		process := func(bytes int, it []pipeline.Item) ([]pipeline.Outcome, error) {
			s, err := st.(*modules.ExtStage).WithConfig(json.RawMessage(`{"bytes":` + itoa(bytes) + `}`))
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
			defer cancel()
			return s.Process(ctx, it)
		}
		// One item of 300 KiB, over the item limit: that item fails, the other does not.
		out, err := process(300<<10, items("public/a.txt"))
		if err != nil || len(out) != 1 || !errors.Is(out[0].Err, ext.ErrQuota) || out[0].Apply != nil {
			t.Fatalf("300 KiB of data for one item: %+v, %v", out, err)
		}
		t.Log(out[0].Err)
		// Three items of 240 KiB, each under the item limit, over the batch's 600 KiB.
		if _, err := process(240<<10, items("public/a.txt", "public/notes/b.txt", "private/diary.txt")); !errors.Is(err, ext.ErrQuota) {
			t.Fatalf("720 KiB for a batch: %v", err)
		} else {
			t.Log(err)
		}
		if out, err := process(1000, items("public/a.txt", "public/notes/b.txt")); err != nil || out[0].Err != nil || out[0].Apply == nil {
			t.Fatalf("small data: %+v, %v", out, err)
		}
		if s := x.Stats(); s.Quotas != 2 {
			t.Errorf("stats = %+v, want 2 quota faults", s)
		}
	})

	t.Run("kv and metadata bytes stop at their quotas", func(t *testing.T) {
		x := w.loadGuest(t, "kvfill", capability.Grant{"kv": {}, "metadata.write": {}},
			host.Limits{Quotas: abi.Quotas{KVBytes: 4096, MetadataBytes: 3000}})
		val := func(n int) string { return strings.Repeat("QUFB", n/3) } // n bytes, base64
		set := func(key string, n int) *abi.Error {
			_, e := hostCall(t, x, "kv.set", map[string]any{"key": key, "value": val(n)})
			return e
		}
		if e := set("a", 3000); e != nil {
			t.Fatalf("first 3000 bytes: %+v", e)
		}
		if e := set("b", 3000); e == nil || e.Code != abi.CodeLimitExceeded {
			t.Fatalf("6000 bytes in a 4096-byte store: %+v", e)
		} else {
			t.Log(e.Message)
		}
		if e := set("a", 3900); e != nil { // replacing a value counts its new size only
			t.Fatalf("replacing a: %+v", e)
		}
		if _, e := hostCall(t, x, "kv.delete", map[string]any{"key": "a"}); e != nil {
			t.Fatal(e)
		}
		if e := set("b", 3000); e != nil {
			t.Fatalf("after the delete: %+v", e)
		}
		target := map[string]any{"content_uuid": w.lib.Files["public/a.txt"].ContentUUID}
		meta := func() *abi.Error {
			_, e := hostCall(t, x, "metadata.set", map[string]any{"target": target, "key": "k", "value": strings.Repeat("m", 1400)})
			return e
		}
		if e := meta(); e != nil {
			t.Fatalf("metadata: %+v", e)
		}
		if e := meta(); e != nil {
			t.Fatalf("metadata: %+v", e)
		}
		if e := meta(); e == nil || e.Code != abi.CodeLimitExceeded {
			t.Fatalf("metadata over the quota: %+v", e)
		}
	})
	w.assertGood(t)
}

func itoa(n int) string {
	b, _ := json.Marshal(n)
	return string(b)
}
