package jobs

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
	"golang.org/x/sys/unix"
)

// State is a job's lifecycle state.
type State string

// Job states.
const (
	Queued    State = "queued"
	Running   State = "running"
	Paused    State = "paused"
	Completed State = "completed"
	Failed    State = "failed"
	Cancelled State = "cancelled"
)

// Finished reports whether the state is terminal.
func (s State) Finished() bool { return s == Completed || s == Failed || s == Cancelled }

// Sentinel outcomes of a run.
var (
	ErrCancelled = errors.New("job cancelled")
	ErrPaused    = errors.New("job paused")
	ErrNotFound  = errors.New("job not found")
	ErrFinished  = errors.New("job already finished")
)

// Job is a persisted job row.
type Job struct {
	ID         int64           `json:"id"`
	UUID       string          `json:"uuid"`
	Kind       string          `json:"kind"`
	Target     string          `json:"target"`
	State      State           `json:"state"`
	Control    string          `json:"control,omitempty"`
	Phase      string          `json:"phase"`
	Done       int64           `json:"done"`
	Total      int64           `json:"total"`
	Checkpoint json.RawMessage `json:"checkpoint,omitempty"`
	Error      string          `json:"error,omitempty"`
	OwnerPID   int             `json:"owner_pid,omitempty"`
	CreatedAt  int64           `json:"created_at_ns"`
	UpdatedAt  int64           `json:"updated_at_ns"`
	FinishedAt int64           `json:"finished_at_ns,omitempty"`
	Skips      int64           `json:"skips"`
}

// Progress is the event a running job publishes (throttled).
type Progress struct {
	JobID int64
	Kind  string
	State State
	Phase string
	Done  int64
	Total int64 // 0: unknown
	// Item is what the job is working on right now (e.g. the file a pipeline stage was handed),
	// "" when it does not say.
	Item string
}

// Topic names the event for the bus.
func (Progress) Topic() string { return "job.progress" }

// Manager creates, lists, controls and runs jobs of one library database.
type Manager struct {
	db         *sql.DB
	OnProgress func(Progress) // called at most every ProgressEvery, and on every state change
	// ProgressEvery throttles progress events (default 100 ms).
	ProgressEvery time.Duration
	// PollEvery is how often a running job checks its control column (default 200 ms).
	PollEvery time.Duration
}

// NewManager returns a manager over a library database.
func NewManager(db *sql.DB) *Manager {
	return &Manager{db: db, ProgressEvery: 100 * time.Millisecond, PollEvery: 200 * time.Millisecond}
}

const jobCols = `id, uuid, kind, target, state, control, phase, done, total, COALESCE(checkpoint, ''), COALESCE(error, ''), owner_pid,
	created_at, updated_at, COALESCE(finished_at, 0), (SELECT count(*) FROM job_skips s WHERE s.job_id = jobs.id)`

func scanJob(r interface{ Scan(...any) error }) (*Job, error) {
	var j Job
	var cp string
	if err := r.Scan(&j.ID, &j.UUID, &j.Kind, &j.Target, &j.State, &j.Control, &j.Phase, &j.Done, &j.Total, &cp, &j.Error,
		&j.OwnerPID, &j.CreatedAt, &j.UpdatedAt, &j.FinishedAt, &j.Skips); err != nil {
		return nil, err
	}
	if cp != "" {
		j.Checkpoint = json.RawMessage(cp)
	}
	return &j, nil
}

// Create records a new queued job.
func (m *Manager) Create(ctx context.Context, kind, target string) (*Job, error) {
	now := time.Now().UnixNano()
	res, err := m.db.ExecContext(ctx, `INSERT INTO jobs (uuid, kind, target, state, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)`,
		uuid.NewString(), kind, target, Queued, now, now)
	if err != nil {
		return nil, fmt.Errorf("creating %s job: %w", kind, err)
	}
	id, _ := res.LastInsertId()
	return m.Get(ctx, strconv.FormatInt(id, 10))
}

// Get finds a job by numeric id or uuid (or a unique uuid prefix).
func (m *Manager) Get(ctx context.Context, ref string) (*Job, error) {
	var row *sql.Row
	if id, err := strconv.ParseInt(ref, 10, 64); err == nil {
		row = m.db.QueryRowContext(ctx, `SELECT `+jobCols+` FROM jobs WHERE id = ?`, id)
	} else {
		row = m.db.QueryRowContext(ctx, `SELECT `+jobCols+` FROM jobs WHERE uuid LIKE ? || '%' LIMIT 2`, strings.ToLower(ref))
	}
	j, err := scanJob(row)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("%w: %s", ErrNotFound, ref)
	}
	if err != nil {
		return nil, fmt.Errorf("reading job %s: %w", ref, err)
	}
	return j, nil
}

// List returns jobs, newest first; unfinished only unless all is set.
func (m *Manager) List(ctx context.Context, all bool) ([]Job, error) {
	q := `SELECT ` + jobCols + ` FROM jobs`
	if !all {
		q += ` WHERE state NOT IN ('completed', 'failed', 'cancelled')`
	}
	rows, err := m.db.QueryContext(ctx, q+` ORDER BY id DESC LIMIT 1000`)
	if err != nil {
		return nil, fmt.Errorf("listing jobs: %w", err)
	}
	defer rows.Close()
	var out []Job
	for rows.Next() {
		j, err := scanJob(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, *j)
	}
	return out, rows.Err()
}

// Unfinished returns the newest unfinished job of a kind and target, or nil.
func (m *Manager) Unfinished(ctx context.Context, kind, target string) (*Job, error) {
	row := m.db.QueryRowContext(ctx, `SELECT `+jobCols+` FROM jobs WHERE kind = ? AND target = ? AND state IN ('queued', 'running', 'paused') ORDER BY id DESC LIMIT 1`, kind, target)
	j, err := scanJob(row)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("looking for unfinished %s job: %w", kind, err)
	}
	return j, nil
}

// Alive reports whether the job is being run by a live process right now.
func (j *Job) Alive() bool {
	return (j.State == Running || j.State == Paused) && pidAlive(j.OwnerPID)
}

func pidAlive(pid int) bool {
	if pid <= 0 {
		return false
	}
	if pid == os.Getpid() {
		return true
	}
	err := unix.Kill(pid, 0)
	return err == nil || errors.Is(err, unix.EPERM)
}

// Control asks a job to pause, resume or cancel. A job run by a live process obeys at its next
// check (within PollEvery); a job nobody runs changes state at once (a paused or orphaned job
// that is cancelled becomes cancelled; resume of an idle job only clears a pause request — run it
// with `cairn jobs resume` or the command that started it).
func (m *Manager) Control(ctx context.Context, ref, action string) (*Job, error) {
	j, err := m.Get(ctx, ref)
	if err != nil {
		return nil, err
	}
	if j.State.Finished() {
		return j, fmt.Errorf("%w: job %d is %s", ErrFinished, j.ID, j.State)
	}
	now := time.Now().UnixNano()
	switch action {
	case "pause", "resume", "cancel":
	default:
		return nil, fmt.Errorf("unknown job action %q (pause, resume, cancel)", action)
	}
	ctl := action
	if action == "resume" {
		ctl = ""
	}
	if j.Alive() {
		_, err = m.db.ExecContext(ctx, `UPDATE jobs SET control = ?, updated_at = ? WHERE id = ?`, ctl, now, j.ID)
	} else {
		switch action {
		case "cancel":
			_, err = m.db.ExecContext(ctx, `UPDATE jobs SET state = ?, control = '', updated_at = ?, finished_at = ? WHERE id = ?`, Cancelled, now, now, j.ID)
		case "pause":
			_, err = m.db.ExecContext(ctx, `UPDATE jobs SET state = ?, control = '', owner_pid = 0, updated_at = ? WHERE id = ?`, Paused, now, j.ID)
		case "resume":
			_, err = m.db.ExecContext(ctx, `UPDATE jobs SET control = '', updated_at = ? WHERE id = ?`, now, j.ID)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("%s job %d: %w", action, j.ID, err)
	}
	return m.Get(ctx, strconv.FormatInt(j.ID, 10))
}

// Func is a job body. It reads its checkpoint from r.Checkpoint(), saves new ones with r.Save
// inside the same transaction as the work they describe, and calls r.Check between batches.
type Func func(ctx context.Context, r *Run) error

// Run is the handle a running job body uses.
type Run struct {
	m        *Manager
	job      *Job
	control  atomic.Value // string
	mu       sync.Mutex
	lastEmit time.Time
	trailing *time.Timer // armed while a throttled change waits to be published
	ended    bool
	phase    string
	done     int64
	total    int64
	item     string
}

// Job is the job being run (its Checkpoint is the one it resumed from).
func (r *Run) Job() *Job { return r.job }

// Checkpoint unmarshals the last saved checkpoint into v; it reports false for a fresh job.
func (r *Run) Checkpoint(v any) (bool, error) {
	if len(r.job.Checkpoint) == 0 {
		return false, nil
	}
	if err := json.Unmarshal(r.job.Checkpoint, v); err != nil {
		return false, fmt.Errorf("reading checkpoint of job %d: %w", r.job.ID, err)
	}
	return true, nil
}

// Save writes the checkpoint and progress inside tx: it commits if and only if the work does.
func (r *Run) Save(ctx context.Context, tx *sql.Tx, checkpoint any) error {
	b, err := json.Marshal(checkpoint)
	if err != nil {
		return fmt.Errorf("encoding checkpoint: %w", err)
	}
	r.mu.Lock()
	phase, done, total := r.phase, r.done, r.total
	r.mu.Unlock()
	if _, err := tx.ExecContext(ctx, `UPDATE jobs SET checkpoint = ?, phase = ?, done = ?, total = ?, updated_at = ? WHERE id = ?`,
		string(b), phase, done, total, time.Now().UnixNano(), r.job.ID); err != nil {
		return fmt.Errorf("saving checkpoint of job %d: %w", r.job.ID, err)
	}
	r.job.Checkpoint = b
	return nil
}

// Progress records progress and publishes it (throttled: a change that comes too soon after the
// last event is published ProgressEvery later, so the newest state is always seen). total 0
// means unknown. A new phase clears the current item.
func (r *Run) Progress(phase string, done, total int64) {
	r.mu.Lock()
	if phase != r.phase {
		r.item = ""
	}
	r.update(phase != r.phase, func() { r.phase, r.done, r.total = phase, done, total })
}

// Working records what the job is working on now (a file path; "" for nothing in particular)
// and publishes it like Progress does.
func (r *Run) Working(item string) {
	r.mu.Lock()
	r.update(false, func() { r.item = item })
}

// update applies set under r.mu (held by the caller; released here) and publishes the new state
// now or, throttled, once ProgressEvery has passed since the last event.
func (r *Run) update(now bool, set func()) {
	set()
	wait := r.m.ProgressEvery - time.Since(r.lastEmit)
	if now || wait <= 0 {
		r.lastEmit = time.Now()
		r.mu.Unlock()
		r.emit(Running)
		return
	}
	if r.trailing == nil && !r.ended {
		r.trailing = time.AfterFunc(wait, func() {
			r.mu.Lock()
			r.trailing = nil
			if r.ended {
				r.mu.Unlock()
				return
			}
			r.lastEmit = time.Now()
			r.mu.Unlock()
			r.emit(Running)
		})
	}
	r.mu.Unlock()
}

// end stops publishing throttled progress.
func (r *Run) end() {
	r.mu.Lock()
	r.ended = true
	if r.trailing != nil {
		r.trailing.Stop()
		r.trailing = nil
	}
	r.mu.Unlock()
}

func (r *Run) emit(s State) {
	if r.m.OnProgress == nil {
		return
	}
	r.mu.Lock()
	p := Progress{JobID: r.job.ID, Kind: r.job.Kind, State: s, Phase: r.phase, Done: r.done, Total: r.total, Item: r.item}
	r.mu.Unlock()
	r.m.OnProgress(p)
}

// Check is called between batches: it returns ErrCancelled when a cancel was requested and
// blocks while a pause is requested (the job shows as paused meanwhile). ctx cancellation
// returns ctx's error.
func (r *Run) Check(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	switch r.control.Load() {
	case "cancel":
		return ErrCancelled
	case "pause":
	default:
		return nil
	}
	_ = r.m.setState(ctx, r.job.ID, Paused, os.Getpid())
	r.emit(Paused)
	t := time.NewTicker(r.m.PollEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
		switch r.control.Load() {
		case "cancel":
			return ErrCancelled
		case "pause":
			continue
		}
		if err := r.m.setState(ctx, r.job.ID, Running, os.Getpid()); err != nil {
			return err
		}
		r.emit(Running)
		return nil
	}
}

func (m *Manager) setState(ctx context.Context, id int64, s State, pid int) error {
	_, err := m.db.ExecContext(ctx, `UPDATE jobs SET state = ?, owner_pid = ?, updated_at = ? WHERE id = ?`, s, pid, time.Now().UnixNano(), id)
	if err != nil {
		return fmt.Errorf("setting job %d %s: %w", id, s, err)
	}
	return nil
}

// Execute runs (or resumes) a job in this process until it completes, fails, is cancelled, or
// ctx ends. The caller must hold the library's write lock: that, not the owner PID recorded in
// the row (which the OS may have reused after a kill -9), is what guarantees that no other
// process is running the job. When ctx ends (Ctrl-C), the job is left paused and resumable. The returned state
// is the job's final state in this run.
func (m *Manager) Execute(ctx context.Context, job *Job, fn Func) (State, error) {
	if job.State.Finished() {
		return job.State, fmt.Errorf("%w: job %d is %s", ErrFinished, job.ID, job.State)
	}
	now := time.Now().UnixNano()
	if _, err := m.db.ExecContext(ctx, `UPDATE jobs SET state = ?, owner_pid = ?, control = CASE WHEN control = 'pause' THEN '' ELSE control END, error = NULL, updated_at = ? WHERE id = ?`,
		Running, os.Getpid(), now, job.ID); err != nil {
		return job.State, fmt.Errorf("starting job %d: %w", job.ID, err)
	}
	r := &Run{m: m, job: job}
	r.control.Store("")
	pollCtx, stopPoll := context.WithCancel(context.Background())
	defer stopPoll()
	go m.poll(pollCtx, job.ID, r)
	r.emit(Running)

	err := fn(ctx, r)
	r.end()
	final := Completed
	msg := ""
	switch {
	case err == nil:
	case errors.Is(err, ErrCancelled):
		final = Cancelled
	case ctx.Err() != nil && (errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)):
		final = Paused
	default:
		final, msg = Failed, err.Error()
	}
	stopPoll()
	end := time.Now().UnixNano()
	var q string
	var args []any
	if final == Paused {
		q, args = `UPDATE jobs SET state = ?, owner_pid = 0, control = '', updated_at = ? WHERE id = ?`, []any{final, end, job.ID}
	} else {
		q, args = `UPDATE jobs SET state = ?, owner_pid = 0, control = '', error = ?, updated_at = ?, finished_at = ? WHERE id = ?`, []any{final, nullStr(msg), end, end, job.ID}
	}
	// A fresh context: the job's own may be cancelled, and the final state must still be written.
	if _, uerr := m.db.ExecContext(context.Background(), q, args...); uerr != nil && err == nil {
		err = fmt.Errorf("recording end of job %d: %w", job.ID, uerr)
	}
	job.State = final
	r.emit(final)
	if final == Cancelled || final == Paused {
		return final, nil
	}
	return final, err
}

func nullStr(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func (m *Manager) poll(ctx context.Context, id int64, r *Run) {
	t := time.NewTicker(m.PollEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		var ctl string
		if err := m.db.QueryRowContext(ctx, `SELECT control FROM jobs WHERE id = ?`, id).Scan(&ctl); err == nil {
			r.control.Store(ctl)
		}
	}
}

// Skips lists the paths a job skipped, and why.
func (m *Manager) Skips(ctx context.Context, jobID int64, limit int) ([][2]string, error) {
	rows, err := m.db.QueryContext(ctx, `SELECT path, reason FROM job_skips WHERE job_id = ? ORDER BY id LIMIT ?`, jobID, limit)
	if err != nil {
		return nil, fmt.Errorf("listing skips of job %d: %w", jobID, err)
	}
	defer rows.Close()
	var out [][2]string
	for rows.Next() {
		var p, r string
		if err := rows.Scan(&p, &r); err != nil {
			return nil, err
		}
		out = append(out, [2]string{p, r})
	}
	return out, rows.Err()
}
