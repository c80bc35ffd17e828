package extstore

import (
	"errors"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// TestHostileInstallStore: attacks on the install store.
func TestHostileInstallStore(t *testing.T) {
	// The id pattern admits "installed.json"; its folder replaced the state file and every
	// later command failed with "is a directory".
	t.Run("reserved-id", func(t *testing.T) {
		f := newFixture(t)
		f.install(a1)
		_, err := f.s.Install(f.v(ext{id: "installed.json", version: "1.0.0", caps: "kv = {}"}), nil)
		if !errors.Is(err, ErrReservedID) {
			t.Fatalf("installing id installed.json: %v; want ErrReservedID", err)
		}
		list, err := f.s.List()
		if err != nil || len(list) != 1 || list[0].ID != a1.id {
			t.Fatalf("the store after the attempt: %v, %v", list, err)
		}
		f.noLeftovers()
	})
	// kill -9 during an install left its staging folder forever (277 MB after 12 kills).
	t.Run("killed-install-leaks-nothing", func(t *testing.T) {
		f := newFixture(t)
		cmd := exec.Command(os.Args[0], "-test.run=^TestStageAndHang$")
		cmd.Env = append(os.Environ(), "EXTSTORE_STAGE_AND_HANG="+f.s.Dir)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		deadline := time.Now().Add(2 * time.Minute)
		for len(stages(t, f.s.Dir)) == 0 {
			if time.Now().After(deadline) {
				cmd.Process.Kill()
				t.Fatal("the child did not stage an install")
			}
			time.Sleep(10 * time.Millisecond)
		}
		// A live transaction's folder is left alone.
		f.s.Begin().Abort()
		if len(stages(t, f.s.Dir)) != 1 {
			t.Fatal("the staging folder of a live process was removed")
		}
		cmd.Process.Kill() // SIGKILL: no deferred cleanup runs
		cmd.Wait()
		f.install(a1) // any later transaction sweeps what dead ones left
		if left := stages(t, f.s.Dir); len(left) != 0 {
			t.Fatalf("staging folders of a killed install remain: %v", left)
		}
	})
}

func stages(t *testing.T, dir string) []string {
	ents, _ := os.ReadDir(dir)
	var out []string
	for _, e := range ents {
		if strings.HasPrefix(e.Name(), stagePrefix) {
			out = append(out, e.Name())
		}
	}
	return out
}

// TestStageAndHang is the child of killed-install-leaks-nothing: it stages an install and
// waits to be killed.
func TestStageAndHang(t *testing.T) {
	dir := os.Getenv("EXTSTORE_STAGE_AND_HANG")
	if dir == "" {
		t.Skip("the child process of TestHostileInstallStore")
	}
	f := newFixture(t)
	f.s.Dir = dir
	if _, err := f.s.Begin().Install(f.v(a2), nil); err != nil {
		t.Fatal(err)
	}
	time.Sleep(time.Hour)
}
