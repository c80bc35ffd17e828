// Package library manages libraries in a Cairn data directory: create, open, list and delete,
// the per-library lock that keeps two writers apart, and the device identity each library
// records. A library is a folder <name>.cairn/ holding library.db (SQLite, WAL), config.toml,
// sidecars/ and library.lock.
package library
