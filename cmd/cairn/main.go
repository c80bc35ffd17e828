// Command cairn is the Cairn CLI: libraries, locations, indexing, listings, jobs and benchmarks.
package main

import "os"

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}
