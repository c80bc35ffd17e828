package plugin

import (
	"log/slog"
	"os"
	"time"
)

// ParentPollEnv names the environment variable that sets how often Serve checks that its parent
// (the host) is alive: a Go duration, default 1s, 0 to turn the check off.
const ParentPollEnv = "CAIRN_PLUGIN_PARENT_POLL"

// watchParent exits the process once its parent changes: the host that started it died without
// stopping it, and the extension was re-parented (to init or a subreaper). This is the portable
// layer of orphan prevention; on Linux the host also sets the kernel's parent-death signal.
func watchParent(log *slog.Logger) {
	every := time.Second
	if v := os.Getenv(ParentPollEnv); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			log.Warn("ignoring malformed "+ParentPollEnv, "value", v, "err", err)
		} else {
			every = d
		}
	}
	if every <= 0 {
		return
	}
	ppid := os.Getppid()
	go func() {
		for range time.Tick(every) {
			if now := os.Getppid(); now != ppid {
				log.Error("the host is gone (parent changed); exiting", "parent", ppid, "now", now)
				os.Exit(3)
			}
		}
	}()
}
