//go:build !unix

package main

import "github.com/cairnfs/cairn/sdk/plugin"

func sandboxExports() map[string]plugin.Export { return nil }
