// Package hosttest is what the host's tests share: real libraries (a SQLite store on disk with
// locations whose files exist, are indexed as entries and have content identities), and the test
// guests of host/testdata/guests built with the standard toolchain for wasip1, once per test
// binary, with a wasm compilation cache shared by the binary's tests.
package hosttest
