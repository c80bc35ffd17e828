// Package jobs runs durable jobs: long work whose state and checkpoints live in the library
// database, so it survives a crash (kill -9 included) and resumes where its last committed batch
// ended. Jobs can be paused, resumed and cancelled from another process through a control column
// the running job polls; progress (phase, done, total, and the item worked on) is published as
// throttled events, the newest always within ProgressEvery. Estimator turns those readings into
// a rate and time left for progress bars.
//
// States: queued → running → completed | failed | cancelled, and running ⇄ paused. A job left
// "running" by a dead process is resumable.
package jobs
