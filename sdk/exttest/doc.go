// Package exttest is the conformance suite for Cairn WASM extensions, run by
// an extension's own go test (and by `cairn ext test`):
//
//	func TestConformance(t *testing.T) { exttest.Run(t, ".", exttest.Options{}) }
//
// Run builds the module (GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared),
// parses its cairn.toml, and loads it in a plain github.com/extism/go-sdk host
// (WASI on, WithCloseOnContextDone, a deadline on every call) whose
// cairn:host/v1 call import is a Fake: in-memory kv, metadata, types,
// sidecars, tags, events, jobs and actions, entries and content over a small
// fixture tree that is also mounted read-only at /data, and the manifest's
// capabilities enforced on every call (a call outside them answers
// capability_denied and is recorded). Then it runs each check as a subtest:
//
//   - manifest: valid, a wasm extension whose ABI range admits 1.0;
//   - build: the module compiles for wasip1;
//   - exports: every export the manifest's contributions name exists;
//
// and for each stage, sidecar and loader, under its id:
//
//   - golden: a batch of fixture items (those the manifest's filter selects,
//     or Options.Batch) gives one outcome per item, in order (loaders: types
//     of items in the batch); Options.Verify adds the author's assertions;
//   - empty: an empty batch gives no outcomes, not an error;
//   - malformed: malformed inputs fail the call and leave the instance
//     usable (an error, not a trap);
//   - capabilities: no host call outside the capabilities the manifest
//     requests, during these checks and a fresh golden run;
//   - deterministic: the same batch gives the same output, host calls and
//     host state on two fresh instances, and the same output and state on a
//     second call of one instance;
//   - memory: 200 golden calls on one instance keep linear memory under
//     256 MiB and within 32 MiB of its size after the warm-up;
//   - deadline: a large batch (20000 items) under a 100 ms deadline returns
//     (stopped or finished) without hanging the host, and a fresh instance
//     works afterwards. A batch that finished in time is logged as "deadline
//     not exercised".
//
// The checks take any manifest and module (RunModule), or any Runtime and
// Host (RunSubject; Evaluate returns a Report instead of failing a test), so
// the real host's tests can prove their own runner with the same suite.
// Fake also runs natively: Fake.Install routes sdk/cairn's host calls to it,
// to unit-test handlers as plain Go.
//
// Cost: building a module takes seconds (less from Go's build cache), and
// compiling it ~1 s per MB, once per test process (Options.CacheDir keeps
// compiled modules across runs). A run of all checks on a small extension
// takes a few seconds, most of it the memory check.
package exttest
