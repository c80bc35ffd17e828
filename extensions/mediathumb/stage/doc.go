// Package stage is stage.mediathumb, the work of the mediathumb native extension: the
// standalone plugin (package main one folder up) and the cairn binary's built-in copy serve
// the same Exports.
package stage
