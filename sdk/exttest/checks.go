package exttest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/cairnfs/cairn/schemas/manifest"
	"github.com/cairnfs/cairn/sdk/cairn"
)

// export is one batch export of the module: a stage, a sidecar or a loader.
type export struct {
	kind   string // "stage", "sidecar", "loader"
	id     string // stage id, "sidecar.<kind>", loader id
	name   string // the module's function
	filter filterSpec
	input  func(items []cairn.Item, config json.RawMessage) []byte
}

func batchExports(m *manifest.Manifest) []export {
	var out []export
	for _, s := range m.Contributes.Stages {
		out = append(out, export{kind: "stage", id: s.ID, name: s.Export,
			filter: filterSpec{kinds: s.Filter.Kinds, mimes: s.Filter.Mimes, globs: s.Filter.Globs,
				minSize: s.Filter.MinSize, maxSize: s.Filter.MaxSize},
			input: func(items []cairn.Item, config json.RawMessage) []byte {
				return mustJSON(map[string]any{"stage": s.ID, "version": s.Version, "config": config, "items": nonNil(items)})
			}})
	}
	for _, s := range m.Contributes.Sidecars {
		variant := ""
		if len(s.Variants) > 0 {
			variant = s.Variants[0]
		}
		out = append(out, export{kind: "sidecar", id: "sidecar." + s.Kind, name: s.Export,
			input: func(items []cairn.Item, config json.RawMessage) []byte {
				return mustJSON(map[string]any{"kind": s.Kind, "variant": variant, "config": config, "items": nonNil(items)})
			}})
	}
	for _, l := range m.Contributes.Loaders {
		out = append(out, export{kind: "loader", id: l.ID, name: l.Export,
			filter: filterSpec{mimes: l.Mimes},
			input: func(items []cairn.Item, config json.RawMessage) []byte {
				return mustJSON(map[string]any{"config": config, "items": nonNil(items)})
			}})
	}
	return out
}

func nonNil(items []cairn.Item) []cairn.Item {
	if items == nil {
		return []cairn.Item{}
	}
	return items
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}

// session is one run of the checks.
type session struct {
	s    Subject
	o    Options
	ctx  context.Context
	fake *Fake
	// denied collects, per export id, the denied calls seen in its checks.
	denied map[string][]HostCall
	seen   int // host calls already harvested since the last reset
}

func runChecks(rn runner, s Subject, o Options) {
	ss := &session{s: s, o: o, ctx: rn.context(), denied: map[string][]HostCall{}}
	ss.fake, _ = s.Host.(*Fake)
	m := s.Manifest

	if !skipped(o, "exports", "exports") {
		rn.check("exports", func(r Reporter) { ss.checkExports(r) })
	}
	for _, e := range batchExports(m) {
		if !s.Runtime.HasExport(e.name) {
			continue // reported by the exports check
		}
		rn.group(e.id, func(rn runner) {
			golden := ss.goldenBatch(e)
			for _, c := range []struct {
				name string
				fn   func(Reporter, export, []cairn.Item)
			}{
				{"golden", ss.checkGolden},
				{"empty", ss.checkEmpty},
				{"malformed", ss.checkMalformed},
				{"capabilities", ss.checkCapabilities},
				{"deterministic", ss.checkDeterministic},
				{"memory", ss.checkMemory},
				{"deadline", ss.checkDeadline},
			} {
				if skipped(o, e.id+"/"+c.name, c.name) {
					continue
				}
				rn.check(c.name, func(r Reporter) { c.fn(r, e, golden) })
			}
		})
	}
}

// goldenBatch is opts.Batch, or the fixture items the export's filter
// selects (all of them when it selects none).
func (ss *session) goldenBatch(e export) []cairn.Item {
	if ss.o.Batch != nil {
		return ss.o.Batch
	}
	items := filterItems(ss.s.Items, e.filter)
	if len(items) == 0 {
		return ss.s.Items
	}
	return items
}

// reset restores the host's initial state.
func (ss *session) reset() {
	if ss.s.Host != nil {
		ss.s.Host.Reset()
	}
	ss.seen = 0
}

// harvest files the denied calls made since the last harvest under id.
func (ss *session) harvest(id string) []HostCall {
	if ss.s.Host == nil {
		return nil
	}
	calls := ss.s.Host.Calls()
	if ss.seen > len(calls) {
		ss.seen = 0
	}
	fresh := calls[ss.seen:]
	ss.seen = len(calls)
	for _, c := range fresh {
		if c.Code == cairn.CodeCapabilityDenied || c.Code == cairn.CodeUnknownFunction {
			ss.denied[id] = append(ss.denied[id], c)
		}
	}
	return fresh
}

// instance starts an instance and runs cairn_init when the module has it.
func (ss *session) instance(r Reporter) (Instance, bool) {
	r.Helper()
	inst, err := ss.s.Runtime.Instance(ss.ctx)
	if err != nil {
		r.Errorf("start an instance: %v", err)
		return nil, false
	}
	if ss.s.Runtime.HasExport(cairn.InitExport) {
		in := mustJSON(map[string]any{"abi": cairn.ABIVersion, "extension": ss.s.Manifest.ID, "config": ss.o.Config})
		if _, err := ss.call(inst, cairn.InitExport, in); err != nil {
			r.Errorf("%s: %v", cairn.InitExport, err)
			inst.Close(ss.ctx)
			return nil, false
		}
	}
	return inst, true
}

func (ss *session) call(inst Instance, name string, input []byte) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ss.ctx, ss.o.CallTimeout)
	defer cancel()
	return inst.Call(ctx, name, input)
}

// ---- exports ----

func (ss *session) checkExports(r Reporter) {
	m := ss.s.Manifest
	type named struct{ what, export string }
	var want []named
	for _, s := range m.Contributes.Stages {
		want = append(want, named{"contributes.stages " + s.ID, s.Export})
	}
	for _, s := range m.Contributes.Sidecars {
		want = append(want, named{"contributes.sidecars " + s.Kind, s.Export})
	}
	for _, l := range m.Contributes.Loaders {
		want = append(want, named{"contributes.loaders " + l.ID, l.Export})
	}
	for _, a := range m.Contributes.Agents {
		want = append(want, named{"contributes.agents " + a.ID, a.Export})
	}
	for _, q := range m.Contributes.Queries {
		want = append(want, named{"contributes.queries " + q.Name, q.Export})
	}
	for _, w := range want {
		if !ss.s.Runtime.HasExport(w.export) {
			r.Errorf("%s names export %q, which the module does not export (is its //go:wasmexport line spelled the same?)", w.what, w.export)
		}
	}
	if ss.s.Runtime.HasExport(cairn.InitExport) {
		r.Logf("the module exports %s; the checks call it on every new instance", cairn.InitExport)
	}
	if len(m.Contributes.Agents)+len(m.Contributes.Queries) > 0 {
		r.Logf("agents and queries are checked for their exports only: ABI v1 does not define a batch for them")
	}
}

// ---- golden ----

// validate checks an export's output for items and decodes it.
func validate(e export, items []cairn.Item, out []byte) (outcomes []Outcome, types []cairn.FileType, problems []string) {
	bad := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }
	if e.kind == "loader" {
		var o struct {
			Types *[]cairn.FileType `json:"types"`
		}
		if err := json.Unmarshal(out, &o); err != nil || o.Types == nil {
			bad("output %s: want {\"types\": [{content_uuid, mime, kind, confidence}]} (%v)", excerpt(out), err)
			return nil, nil, problems
		}
		in := map[string]bool{}
		for _, it := range items {
			in[it.ContentUUID] = true
		}
		for i, t := range *o.Types {
			if !in[t.ContentUUID] {
				bad("types[%d]: content %q is not in the batch", i, t.ContentUUID)
			}
			if !(t.Confidence >= 0 && t.Confidence <= 1) {
				bad("types[%d]: confidence %v: want 0 to 1", i, t.Confidence)
			}
			if t.Mime == "" || t.Kind == "" {
				bad("types[%d]: want a mime and a kind", i)
			}
		}
		return nil, *o.Types, problems
	}
	var o struct {
		Outcomes *[]Outcome `json:"outcomes"`
	}
	if err := json.Unmarshal(out, &o); err != nil || o.Outcomes == nil {
		bad("output %s: want {\"outcomes\": [...]}, one per item (%v)", excerpt(out), err)
		return nil, nil, problems
	}
	outcomes = *o.Outcomes
	if len(outcomes) != len(items) {
		bad("%d outcomes for %d items: want exactly one per item, in order", len(outcomes), len(items))
	}
	for i := 0; i < min(len(outcomes), len(items)); i++ {
		if outcomes[i].ContentUUID != items[i].ContentUUID {
			bad("outcome %d is for content %q, item %d is %q: want one outcome per item, in order",
				i, outcomes[i].ContentUUID, i, items[i].ContentUUID)
			break
		}
		if d := bytes.TrimSpace(outcomes[i].Data); len(d) > 0 && string(d) != "null" && d[0] != '{' {
			bad("outcome %d: data %s: want a JSON object", i, excerpt(d))
		}
	}
	return outcomes, nil, problems
}

func (ss *session) checkGolden(r Reporter, e export, items []cairn.Item) {
	ss.reset()
	inst, ok := ss.instance(r)
	if !ok {
		return
	}
	defer inst.Close(ss.ctx)
	start := time.Now()
	out, err := ss.call(inst, e.name, e.input(items, ss.o.Config))
	took := time.Since(start)
	calls := ss.harvest(e.id)
	if err != nil {
		r.Errorf("golden batch of %d items: %v", len(items), err)
		return
	}
	outcomes, types, problems := validate(e, items, out)
	for _, p := range problems {
		r.Errorf("golden batch: %s", p)
	}
	failed := 0
	for i, o := range outcomes {
		if o.Error != "" {
			failed++
			r.Logf("item %d (%s): error: %s", i, items[i].Name, o.Error)
		}
	}
	r.Logf("%d items in %v: %d outcomes (%d failed), %d types, %d host calls", len(items),
		took.Round(time.Microsecond), len(outcomes), failed, len(types), len(calls))
	if ss.o.Verify != nil && len(problems) == 0 {
		ss.o.Verify(r, Golden{ID: e.id, Export: e.name, Items: items, Output: out, Outcomes: outcomes,
			Types: types, Calls: calls, Fake: ss.fake})
	}
}

// ---- empty ----

func (ss *session) checkEmpty(r Reporter, e export, _ []cairn.Item) {
	ss.reset()
	inst, ok := ss.instance(r)
	if !ok {
		return
	}
	defer inst.Close(ss.ctx)
	out, err := ss.call(inst, e.name, e.input(nil, ss.o.Config))
	ss.harvest(e.id)
	if err != nil {
		r.Errorf("empty batch: %v (want an empty result)", err)
		return
	}
	outcomes, types, problems := validate(e, nil, out)
	for _, p := range problems {
		r.Errorf("empty batch: %s", p)
	}
	if len(outcomes)+len(types) != 0 {
		r.Errorf("empty batch: %s: want no outcomes", excerpt(out))
	}
}

// ---- malformed ----

func (ss *session) malformedInputs(e export, items []cairn.Item) []string {
	golden := e.input(items, ss.o.Config)
	return []string{
		"",
		"not json",
		"[]",
		`{"items": 42}`,
		`{"items": [{"content_uuid": 5, "size": "big"}]}`,
		string(golden[:len(golden)/2]),
	}
}

func (ss *session) checkMalformed(r Reporter, e export, items []cairn.Item) {
	ss.reset()
	inst, ok := ss.instance(r)
	if !ok {
		return
	}
	defer func() { inst.Close(ss.ctx) }()
	empty := e.input(nil, ss.o.Config)
	for _, in := range ss.malformedInputs(e, items) {
		out, err := ss.call(inst, e.name, []byte(in))
		ss.harvest(e.id)
		if err == nil {
			r.Errorf("input %s: succeeded with %s; want an error", excerpt([]byte(in)), excerpt(out))
		}
		// An error set by the export leaves the instance usable; a trap kills it.
		if _, err2 := ss.call(inst, e.name, empty); err2 != nil {
			r.Errorf("input %s trapped the instance instead of failing the call (%v); the next call failed: %v. "+
				"Decode input inside pdk.Export / cairn.Run so errors are returned, not raised", excerpt([]byte(in)), err, firstLine(err2.Error()))
			inst.Close(ss.ctx)
			if inst, ok = ss.instance(r); !ok {
				return
			}
		}
	}
}

// ---- capabilities ----

func (ss *session) checkCapabilities(r Reporter, e export, items []cairn.Item) {
	if ss.s.Host == nil {
		r.Logf("no host to observe: not checked")
		return
	}
	ss.reset()
	if inst, ok := ss.instance(r); ok {
		if _, err := ss.call(inst, e.name, e.input(items, ss.o.Config)); err != nil {
			r.Logf("golden batch: %v", err)
		}
		inst.Close(ss.ctx)
	}
	calls := ss.s.Host.Calls()
	ss.harvest(e.id)
	type group struct {
		first HostCall
		n     int
	}
	var order []string
	groups := map[string]*group{}
	for _, c := range ss.denied[e.id] {
		k := c.Fn + "\x00" + c.Code + "\x00" + c.Message
		if g, ok := groups[k]; ok {
			g.n++
			continue
		}
		groups[k] = &group{first: c, n: 1}
		order = append(order, k)
	}
	for _, k := range order {
		c, times := groups[k].first, ""
		if n := groups[k].n; n > 1 {
			times = " (" + strconv.Itoa(n) + " times; the first shown)"
		}
		need := fnCapability[c.Fn]
		_, requested := ss.s.Manifest.Capabilities[need]
		switch {
		case c.Code == cairn.CodeUnknownFunction:
			r.Logf("called %s%s, which this host does not provide: %s", c.Fn, times, c.Message)
		case ss.o.Grant != nil && requested:
			r.Logf("called %s %s%s: denied by the test's grant: %s", c.Fn, excerpt(c.Args), times, c.Message)
		case !requested && need != "":
			r.Errorf("called %s %s%s, which needs %q: the manifest does not request it (%s)", c.Fn, excerpt(c.Args), times, need, c.Message)
		default:
			r.Errorf("called %s %s%s outside the scope it requested: %s", c.Fn, excerpt(c.Args), times, c.Message)
		}
	}
	used := map[string]bool{}
	for _, c := range calls {
		used[fnCapability[c.Fn]] = true
	}
	var unused []string
	for _, c := range sortedKeys(ss.s.Manifest.Capabilities) {
		if !used[c] && c != "content.read" && c != "models.own" && c != "net" {
			unused = append(unused, c)
		}
	}
	if len(unused) > 0 {
		r.Logf("requested but not used by the golden batch: %s (fine if other paths use them)", strings.Join(unused, ", "))
	}
}

// ---- deterministic ----

type run struct {
	out   []byte
	calls []HostCall
	snap  any
	err   error
}

func (ss *session) runOnce(inst Instance, e export, items []cairn.Item) run {
	ss.reset()
	out, err := ss.call(inst, e.name, e.input(items, ss.o.Config))
	var rn run
	rn.out, rn.err = out, err
	if ss.s.Host != nil {
		rn.calls = ss.harvest(e.id)
		if sn, ok := ss.s.Host.(Snapshotter); ok {
			rn.snap = sn.Snapshot()
		}
	}
	return rn
}

func (ss *session) checkDeterministic(r Reporter, e export, items []cairn.Item) {
	i1, ok := ss.instance(r)
	if !ok {
		return
	}
	defer i1.Close(ss.ctx)
	a := ss.runOnce(i1, e, items)
	b := ss.runOnce(i1, e, items) // same instance: its history must not change results
	i2, ok := ss.instance(r)
	if !ok {
		return
	}
	defer i2.Close(ss.ctx)
	c := ss.runOnce(i2, e, items) // a fresh instance: everything must match
	if a.err != nil || b.err != nil || c.err != nil {
		if (a.err == nil) != (b.err == nil) || (a.err == nil) != (c.err == nil) {
			r.Errorf("the same batch failed in some runs only: %v / %v / %v", a.err, b.err, c.err)
		} else if a.err.Error() != c.err.Error() {
			r.Errorf("the same batch failed differently: %v / %v", a.err, c.err)
		}
		return
	}
	if d := diff(a.out, c.out); d != "" {
		r.Errorf("two fresh instances gave different outputs for the same batch: %s", d)
	}
	if d := diff(a.out, b.out); d != "" {
		r.Errorf("a second call on the same instance gave a different output: %s (does the module keep state between calls?)", d)
	}
	if i, ok := firstCallDiff(a.calls, c.calls); !ok {
		r.Errorf("two fresh instances made different host calls: call %d: %s / %s", i, callString(a.calls, i), callString(c.calls, i))
	}
	if a.snap != nil && !reflect.DeepEqual(a.snap, c.snap) {
		r.Errorf("two fresh instances left the host in different states")
	}
	if a.snap != nil && !reflect.DeepEqual(a.snap, b.snap) {
		r.Errorf("a second call on the same instance left the host in a different state")
	}
}

func firstCallDiff(a, b []HostCall) (int, bool) {
	for i := 0; i < max(len(a), len(b)); i++ {
		if i >= len(a) || i >= len(b) || a[i].Fn != b[i].Fn || a[i].Code != b[i].Code ||
			!bytes.Equal(compact(a[i].Args), compact(b[i].Args)) {
			return i, false
		}
	}
	return 0, true
}

func callString(calls []HostCall, i int) string {
	if i >= len(calls) {
		return "(none)"
	}
	return calls[i].Fn + " " + excerpt(calls[i].Args)
}

// diff describes the first difference between two outputs, "" when equal.
func diff(a, b []byte) string {
	if bytes.Equal(a, b) {
		return ""
	}
	i := 0
	for i < len(a) && i < len(b) && a[i] == b[i] {
		i++
	}
	from := max(0, i-40)
	return fmt.Sprintf("at byte %d: …%s… / …%s…", i, clip(a[from:], 100), clip(b[from:], 100))
}

func clip(b []byte, n int) string {
	if len(b) > n {
		b = b[:n]
	}
	return string(b)
}

// ---- memory ----

func (ss *session) checkMemory(r Reporter, e export, items []cairn.Item) {
	ss.reset()
	inst, ok := ss.instance(r)
	if !ok {
		return
	}
	defer inst.Close(ss.ctx)
	input := e.input(items, ss.o.Config)
	n := ss.o.MemoryCalls
	warmAt := max(1, n/10)
	var warm, peak, last uint64
	start := time.Now()
	for i := 1; i <= n; i++ {
		if _, err := ss.call(inst, e.name, input); err != nil {
			r.Errorf("call %d of %d: %v", i, n, err)
			return
		}
		if i%50 == 0 {
			ss.reset() // keep the fake's records small
		}
		last = inst.MemoryBytes()
		if last == 0 {
			r.Logf("the runtime does not report the module's memory: not checked")
			return
		}
		peak = max(peak, last)
		if i == warmAt {
			warm = last
		}
	}
	r.Logf("%d calls in %v: linear memory %s after %d calls, %s after %d, peak %s",
		n, time.Since(start).Round(time.Millisecond), mib(warm), warmAt, mib(last), n, mib(peak))
	if peak > ss.o.MaxMemory {
		r.Errorf("linear memory peaked at %s, over the %s limit", mib(peak), mib(ss.o.MaxMemory))
	}
	if last > warm+ss.o.MaxGrowth {
		r.Errorf("linear memory grew from %s to %s over %d calls (limit +%s): a leak, or exports that skip pdk.Export / cairn.Run "+
			"(their runtime.Gosched keeps the guest's GC running)", mib(warm), mib(last), n-warmAt, mib(ss.o.MaxGrowth))
	}
}

func mib(b uint64) string { return strconv.FormatFloat(float64(b)/(1<<20), 'f', 1, 64) + " MiB" }

// ---- deadline ----

func (ss *session) checkDeadline(r Reporter, e export, items []cairn.Item) {
	if len(items) == 0 {
		items = ss.s.Items
	}
	if len(items) == 0 {
		r.Logf("no items to build a large batch from: not checked")
		return
	}
	ss.reset()
	inst, ok := ss.instance(r)
	if !ok {
		return
	}
	defer inst.Close(ss.ctx)
	if _, err := ss.call(inst, e.name, e.input(nil, ss.o.Config)); err != nil { // warm up the guest runtime
		r.Errorf("empty batch: %v", err)
		return
	}
	large := make([]cairn.Item, ss.o.LargeBatch)
	for i := range large {
		large[i] = items[i%len(items)]
	}
	input := e.input(large, ss.o.Config)
	deadline := ss.o.ShortDeadline
	ctx, cancel := context.WithTimeout(ss.ctx, deadline)
	defer cancel()
	type result struct {
		out []byte
		err error
	}
	done := make(chan result, 1)
	start := time.Now()
	go func() {
		out, err := inst.Call(ctx, e.name, input)
		done <- result{out, err}
	}()
	select {
	case res := <-done:
		took := time.Since(start)
		switch {
		case res.err != nil && took >= deadline:
			r.Logf("%d items (%d KiB of input): stopped by its %v deadline after %v: %s", len(large), len(input)>>10, deadline,
				took.Round(time.Millisecond), firstLine(res.err.Error()))
		case res.err != nil:
			r.Logf("%d items (%d KiB of input): failed after %v, before its %v deadline: %s", len(large), len(input)>>10,
				took.Round(time.Millisecond), deadline, firstLine(res.err.Error()))
		case took <= deadline:
			_, _, problems := validate(e, large, res.out)
			for _, p := range problems {
				r.Errorf("large batch: %s", p)
			}
			r.Logf("%d items finished in %v, within the %v deadline: the deadline was not exercised (raise Options.LargeBatch)",
				len(large), took.Round(time.Millisecond), deadline)
		default:
			r.Logf("%d items finished in %v, after the %v deadline: the runtime did not stop it (no check point was reached in time)",
				len(large), took.Round(time.Millisecond), deadline)
		}
	case <-time.After(deadline + ss.o.DeadlineGrace):
		r.Errorf("the call was still running %v after its %v deadline: the host is hung (the runtime must close modules when the context is done: wazero WithCloseOnContextDone)",
			ss.o.DeadlineGrace, deadline)
		return
	}
	// A stopped instance is closed; a new one must work.
	fresh, ok := ss.instance(r)
	if !ok {
		return
	}
	defer fresh.Close(ss.ctx)
	if _, err := ss.call(fresh, e.name, e.input(items, ss.o.Config)); err != nil {
		r.Errorf("a fresh instance after the deadline: %v", err)
	}
	ss.harvest(e.id)
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}

// excerpt quotes up to 120 bytes of b.
func excerpt(b []byte) string {
	if len(b) > 120 {
		return strconv.Quote(string(b[:120])) + "…"
	}
	return strconv.Quote(string(b))
}
