package main

import (
	"github.com/cairnfs/cairn/extensions/mediathumb/stage"
	"github.com/cairnfs/cairn/sdk/plugin"
)

func main() { plugin.Serve(stage.Exports()) }
