// Package logattr keeps each attribute of a structured log line once: a logger given
// "extension=X" by the host and again by a package below it (host/process, host/ext) writes it once.
package logattr
