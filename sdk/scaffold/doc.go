// Package scaffold generates new Cairn extension projects (`cairn ext new`):
// Generate writes a manifest, a stage built on sdk/cairn, a conformance test
// built on sdk/exttest, a README, and a go.mod that requires Cairn through a
// replace directive pointing at a local checkout (found by FindCairn) with
// Cairn's go.sum, so that the project builds and tests right away with only
// the Go module proxy reachable. The templates are embedded (templates/).
package scaffold
