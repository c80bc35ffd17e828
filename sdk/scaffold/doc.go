// Package scaffold generates new Cairn extension projects (`cairn ext new`):
// Generate writes a manifest, a stage built on sdk/cairn, a conformance test
// built on sdk/exttest, a README, and a go.mod that requires Cairn at a
// version and names no path on this machine. A developer's checkout
// ($CAIRN_SOURCE, or FindCairn) is used through a go.work file that
// .gitignore lists, with Cairn's go.sum, so that the project builds and tests
// right away; a released cairn binary without a checkout requires its own
// version from the module proxy. The templates are embedded (templates/).
package scaffold
