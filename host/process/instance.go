package process

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"runtime"
	"sync"
	"time"

	"github.com/cairnfs/cairn/schemas/pluginwire"
	"github.com/hashicorp/go-hclog"
	goplugin "github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
)

// instance is one run of the extension's process.
type instance struct {
	p       *Process
	config  *goplugin.ClientConfig // go-plugin fills in TLSConfig (AutoMTLS) while starting
	client  *goplugin.Client
	cmd     *exec.Cmd
	stderr  *lineLog
	pid     int
	started time.Time

	conn *grpc.ClientConn
	done <-chan struct{} // closed once the process has exited and been reaped (go-plugin's)

	// The Host service is offered over the broker at the first call (the process drops an
	// offer it has not dialled within 5 s, and it dials when a call names the id).
	broker   *goplugin.GRPCBroker
	hostID   uint32
	hostOnce sync.Once
	hostSrv  *grpc.Server // under mu

	// release ends the goroutine that forked the process, which keeps its OS thread (the
	// "parent" of the parent-death signal) until the process is gone.
	release     chan struct{}
	releaseOnce sync.Once
	released    chan struct{} // closed once watch has cleaned up after the exit

	mu     sync.Mutex
	reason string // why the host killed it; "" while it has not
}

// launch starts a process: exec from a thread locked for the child's life, go-plugin handshake
// with the pinned checksum and AutoMTLS, dispense. The caller must start inst.watch once it has
// published the instance (or decided not to), so that watch's report finds it.
func (p *Process) launch(ctx context.Context) (*instance, error) {
	cmd := exec.Command(p.exe, p.args...)
	cmd.Env = p.env
	cmd.Dir = p.cfg.Dir
	setSysProcAttr(cmd)
	inst := &instance{
		p:        p,
		cmd:      cmd,
		stderr:   newLineLog(p.log, "stderr", &outputTail{keep: 8}),
		release:  make(chan struct{}),
		released: make(chan struct{}),
	}
	inst.config = &goplugin.ClientConfig{
		HandshakeConfig:  pluginwire.Handshake,
		Plugins:          goplugin.PluginSet{pluginwire.PluginName: &hostPlugin{}},
		Cmd:              cmd,
		SecureConfig:     &goplugin.SecureConfig{Checksum: p.exeSum, Hash: sha256.New()},
		AutoMTLS:         true,
		Managed:          true,
		AllowedProtocols: []goplugin.Protocol{goplugin.ProtocolGRPC},
		StartTimeout:     p.cfg.StartTimeout,
		SkipHostEnv:      true,
		Stderr:           inst.stderr,
		// What the extension writes to os.Stdout and os.Stderr once Serve runs travels over
		// go-plugin's stdio stream; what the runtime writes (a fatal panic) goes to the real
		// stderr. Both feed the same tail for crash reports.
		SyncStdout: newLineLog(p.log, "stdout", inst.stderr.tail),
		SyncStderr: newLineLog(p.log, "stderr", inst.stderr.tail),
		// go-plugin's own logger is off: the extension's stderr goes to Stderr above, and the
		// lifecycle is logged by this package.
		Logger: hclog.New(&hclog.LoggerOptions{Output: io.Discard, Level: hclog.Off}),
	}
	inst.client = goplugin.NewClient(inst.config)

	started := make(chan error, 1)
	go inst.spawn(started)
	var err error
	select {
	case err = <-started:
	case <-ctx.Done():
		go func() {
			if <-started == nil {
				killGroup(cmd.Process.Pid, cmd) // not reaped yet: go-plugin waits for it
			}
			inst.client.Kill()
			inst.releaseThread()
		}()
		return nil, fmt.Errorf("starting %s: %w", p.path, ctx.Err())
	}
	if err != nil {
		inst.client.Kill()
		inst.releaseThread()
		if errors.Is(err, goplugin.ErrChecksumsDoNotMatch) {
			if p.sandboxed() {
				return nil, fmt.Errorf("%w: the sandbox trampoline %s changed since the host started", ErrChecksumMismatch, p.exe)
			}
			return nil, p.checksumError()
		}
		if p.sandboxed() { // the trampoline refused the binary (sandbox.ExitChecksum)?
			if sum, herr := fileSHA256(p.path); herr == nil && !bytes.Equal(sum, p.sum) {
				return nil, p.checksumError()
			}
		}
		if s := inst.stderr.summary(); s != "" {
			err = fmt.Errorf("%w (stderr: %s)", err, s)
		}
		return nil, fmt.Errorf("starting %s: %w", p.path, err)
	}
	inst.pid = cmd.Process.Pid
	inst.started = time.Now()

	rpc, err := inst.client.Client()
	if err == nil {
		var raw any
		if raw, err = rpc.Dispense(pluginwire.PluginName); err == nil {
			d := raw.(*dispensed)
			inst.conn, inst.broker, inst.hostID, inst.done = d.conn, d.broker, d.hostID, d.done
		}
	}
	if err != nil {
		inst.kill("connecting failed")
		inst.client.Kill()
		inst.releaseThread()
		return nil, fmt.Errorf("connecting to %s: %w", p.path, err)
	}
	p.log.Info("extension process started", "pid", inst.pid)
	return inst, nil // the caller publishes it, then starts watch
}

// spawn starts the process from a goroutine locked to its OS thread and keeps the lock until
// the process is gone.
//
// Linux sends the parent-death signal (Pdeathsig) when the *thread* that forked the child exits,
// not the process. Go threads do exit: the runtime terminates a thread whose goroutine returns
// while locked to it (runtime.LockOSThread without Unlock, common in code that changes
// namespaces or other per-thread state, ours or a dependency's). Had the child been forked from a
// pooled thread, such a goroutine could later run on it and take the child down with it. Locking
// the forking goroutine to its thread until the child has exited keeps that thread out of the
// pool: it dies only with the process (any kill, -9 included), which is when we want the child to
// die too. It costs one parked OS thread per running extension.
func (inst *instance) spawn(started chan<- error) {
	runtime.LockOSThread()
	_, err := inst.client.Start() // forks on this thread
	started <- err
	<-inst.release
	runtime.UnlockOSThread()
}

func (inst *instance) releaseThread() {
	inst.releaseOnce.Do(func() { close(inst.release) })
}

// watch waits for the process to exit, cleans up after it and tells the Process.
func (inst *instance) watch() {
	<-inst.done
	// Whatever the process started in its group goes with it. (The group id cannot be reused
	// while a member lives; once none does, the kill finds nothing.)
	killGroup(inst.pid, inst.cmd)
	inst.stopHost()
	inst.client.Kill() // go-plugin's cleanup: broker, connections, sockets
	inst.releaseThread()
	close(inst.released)
	inst.p.exited(inst)
}

// kill SIGKILLs the process and its group, recording why. It reports whether this call was the
// first to kill a live process.
func (inst *instance) kill(reason string) bool {
	inst.mu.Lock()
	first := inst.reason == ""
	if first {
		inst.reason = reason
	}
	inst.mu.Unlock()
	if inst.done != nil && inst.exited() {
		return false // gone and reaped: its pid may already be someone else's
	}
	killGroup(inst.pid, inst.cmd)
	return first
}

// exited reports whether the process has exited.
func (inst *instance) exited() bool {
	select {
	case <-inst.done:
		return true
	default:
		return false
	}
}

func (inst *instance) killReason() string {
	inst.mu.Lock()
	defer inst.mu.Unlock()
	return inst.reason
}

// stop shuts the process down gracefully (go-plugin's Shutdown, then its own kill after 2 s),
// kills its group if ctx is done first, and waits until it is gone.
func (inst *instance) stop(ctx context.Context) {
	inst.mu.Lock()
	if inst.reason == "" {
		inst.reason = "closed"
	}
	inst.mu.Unlock()
	go inst.client.Kill()
	select {
	case <-inst.released:
		return
	case <-ctx.Done():
	}
	inst.kill("closed")
	select {
	case <-inst.released:
	case <-time.After(5 * time.Second):
		inst.p.log.Error("extension process did not exit after SIGKILL", "pid", inst.pid)
	}
}

// describeExit says how the process ended (exit status or signal, why the host killed it, the
// first panic line or the last line of its stderr).
func (inst *instance) describeExit() string {
	s := "process exited"
	select {
	case <-inst.done:
		if ps := inst.cmd.ProcessState; ps != nil {
			s = ps.String()
		}
	default:
		s = "process still running"
	}
	if r := inst.killReason(); r != "" {
		s += "; killed by the host: " + r
	}
	if e := inst.stderr.summary(); e != "" {
		s += "; stderr: " + e
	}
	return s
}

// hostPlugin is the host side of go-plugin's plugin set.
type hostPlugin struct {
	goplugin.NetRPCUnsupportedPlugin
}

// dispensed is what hostPlugin.GRPCClient returns.
type dispensed struct {
	conn   *grpc.ClientConn
	broker *goplugin.GRPCBroker
	hostID uint32
	done   <-chan struct{}
}

// serveHost offers the Host service to the process, once, and returns its broker id.
func (inst *instance) serveHost() uint32 {
	inst.hostOnce.Do(func() {
		ln, err := inst.broker.Accept(inst.hostID)
		if err != nil {
			inst.p.log.Warn("offering the host ABI to the extension process failed", "pid", inst.pid, "err", err)
			return
		}
		var opts []grpc.ServerOption
		if tc := inst.config.TLSConfig; tc != nil {
			opts = append(opts, grpc.Creds(credentials.NewTLS(tc)))
		}
		srv := inst.p.newHostServer(opts)
		inst.mu.Lock()
		stopped := inst.reason != "" || inst.exited()
		if !stopped {
			inst.hostSrv = srv
		}
		inst.mu.Unlock()
		if stopped {
			_ = ln.Close()
			return
		}
		go func() { _ = srv.Serve(ln) }()
	})
	return inst.hostID
}

// stopHost stops the Host service, ending the host calls in flight.
func (inst *instance) stopHost() {
	inst.mu.Lock()
	srv := inst.hostSrv
	inst.hostSrv = nil
	inst.mu.Unlock()
	if srv != nil {
		srv.Stop()
	}
}

func (h *hostPlugin) GRPCServer(*goplugin.GRPCBroker, *grpc.Server) error {
	return errors.New("host/process: the host does not serve extensions")
}

// GRPCClient returns the connection to the process and the broker to serve the host ABI on. ctx
// is done when the process has exited.
func (h *hostPlugin) GRPCClient(ctx context.Context, broker *goplugin.GRPCBroker, conn *grpc.ClientConn) (any, error) {
	return &dispensed{conn: conn, broker: broker, hostID: broker.NextId(), done: ctx.Done()}, nil
}

// Interface guards.
var _ goplugin.GRPCPlugin = (*hostPlugin)(nil)
