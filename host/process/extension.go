package process

import (
	"context"
	"time"

	"github.com/cairnfs/cairn/host/ext"
)

// Extension is a native extension ready to call: a Process under host/ext's per-call limits
// (deadline, output cap) and fault counting (ErrDisabled after Limits.MaxConsecutiveFaults faults
// in a row; ErrCrashed, ErrDeadline and ErrOutputTooLarge are faults).
type Extension struct {
	*ext.Extension
	Process *Process
}

// Start launches the extension's process (see Launch) and wraps it in an ext.Extension.
func Start(ctx context.Context, cfg Config) (*Extension, error) {
	p, err := Launch(ctx, cfg)
	if err != nil {
		return nil, err
	}
	return &Extension{Extension: ext.New(cfg.ID, p, cfg.Limits, cfg.Logger), Process: p}, nil
}

// closeTimeout bounds Close: go-plugin's graceful shutdown, then SIGKILL.
const closeTimeout = 5 * time.Second

// Close refuses further calls and stops the process (gracefully, then by SIGKILL to its process
// group after 5 s); it returns once the process is gone. Use Extension.Extension.Close for
// another bound.
func (x *Extension) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), closeTimeout)
	defer cancel()
	return x.Extension.Close(ctx)
}
