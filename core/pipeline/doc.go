// Package pipeline defines the stage contract of indexing pipelines: the boundary that built-in
// stages implement today and that WASM and go-plugin extension stages will implement through the
// host. A stage consumes contents in batches and reports one outcome per content; the runner
// records each outcome in the ledger keyed by (content, stage, stage version), so a re-run does
// only missing work, a new stage version redoes only that stage, and a failure on one file is
// recorded for that file while the batch goes on. An outcome that failed because an external
// program is not installed (MissingToolError; the host ABI's "missing tool" error text) is
// recorded as StatusMissingTool: not a final failure, it is offered to the stage again by every
// run. A step's selection (Step.Types in the database, Step.Accept for paths) is the same for a
// run and for Pending, the count `cairn pipeline status` shows.
package pipeline
