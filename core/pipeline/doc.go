// Package pipeline defines the stage contract of indexing pipelines: the boundary that built-in
// stages implement today and that WASM and go-plugin extension stages will implement through the
// host. A stage consumes contents in batches and reports one outcome per content; the runner
// records each outcome in the ledger keyed by (content, stage, stage version), so a re-run does
// only missing work, a new stage version redoes only that stage, and a failure on one file is
// recorded for that file while the batch goes on.
package pipeline
