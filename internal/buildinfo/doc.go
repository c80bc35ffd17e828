// Package buildinfo says which Cairn a binary is: its module version, the VCS commit it was
// built from and the Go version, read from the build information Go embeds in every binary.
package buildinfo
