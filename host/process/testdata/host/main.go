// Command host starts the native extension named by its first argument with host/process,
// prints the extension process's pid, and waits to be killed: the orphan test SIGKILLs it and
// checks that the extension process dies with it.
package main

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/cairnfs/cairn/host/process"
)

func main() {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	x, err := process.Start(ctx, process.Config{
		ID:   "dev.test.orphan",
		Path: os.Args[1],
		// Turn off the extension's own parent check, so that only the kernel's parent-death
		// signal can kill it.
		Env: []string{"CAIRN_PLUGIN_PARENT_POLL=0"},
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	if _, err := x.Call(ctx, "echo", []byte(`{}`)); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Println(x.Process.PID())
	time.Sleep(time.Hour)
}
