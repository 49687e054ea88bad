package control

import (
	"context"

	"github.com/seed-a550a1ef/kafka-qdrant/control/job"
	"github.com/seed-a550a1ef/kafka-qdrant/schemas"
)

// CancelResult is the result of a succeeded cancel.
type CancelResult struct {
	Target      string        `json:"target"`
	TargetState schemas.State `json:"target_state"`
}

// cancelHandler executes cancel: a queued target ends cancelled without
// running; a running one has its context cancelled (job.ErrCancelled) and
// the cancel waits for it to end. The cancel succeeds when the target ended
// cancelled (also when it already had, so a redelivered cancel succeeds
// again) and fails with not_cancellable when the target ended otherwise,
// or not_found when no such command is in flight or known.
type cancelHandler struct{ r *Runner }

func (c *cancelHandler) Validate(schemas.Command) error { return nil }

func (c *cancelHandler) Run(ctx context.Context, cmd schemas.Command, rep job.Reporter) (any, error) {
	r := c.r
	r.mu.Lock()
	t := r.active[cmd.Target]
	switch {
	case t == nil:
		r.mu.Unlock()
		return c.notInFlight(cmd.Target)
	case t.cmd.Type == schemas.CommandCancel:
		r.mu.Unlock()
		return nil, job.Errorf(schemas.ErrNotCancellable, false, "command %s is a cancel; a cancel cannot be cancelled", cmd.Target)
	}
	t.cancelledBy = cmd.ID
	if !t.started {
		// Claim the queued target: it never runs. It stays in flight
		// until its final is recorded, so a re-sent copy arriving
		// meanwhile joins it instead of resuming it.
		t.started = true
		r.dequeueLocked(t)
		r.mu.Unlock()
		st := r.status(t.cmd, schemas.StateCancelled)
		st.Error = &schemas.StatusError{Code: schemas.ErrCancelled, Message: "cancelled by command " + cmd.ID + " before it started"}
		if !r.conclude(t, st, -1) {
			return nil, context.Cause(ctx)
		}
		return CancelResult{Target: cmd.Target, TargetState: schemas.StateCancelled}, nil
	}
	r.mu.Unlock()
	t.cancel(job.ErrCancelled)
	rep.Progress(schemas.Progress{Detail: "cancel signalled to " + cmd.Target + "; waiting for it to stop"})
	select {
	case <-t.done:
	case <-ctx.Done():
		return nil, context.Cause(ctx)
	}
	r.mu.Lock()
	fin := t.final
	r.mu.Unlock()
	switch {
	case fin == nil:
		return nil, job.Errorf(schemas.ErrNotCancellable, true, "command %s was handed over to another replica before it stopped; send the cancel again", cmd.Target)
	case fin.State != schemas.StateCancelled:
		return nil, job.Errorf(schemas.ErrNotCancellable, false, "command %s %s before the cancel took effect", cmd.Target, fin.State)
	}
	return CancelResult{Target: cmd.Target, TargetState: schemas.StateCancelled}, nil
}

// notInFlight answers a cancel whose target is not in flight here.
func (c *cancelHandler) notInFlight(target string) (any, error) {
	r := c.r
	r.mu.Lock()
	fin, ok := r.finals.get(target)
	r.mu.Unlock()
	if !ok {
		if ent, found := r.follower.View().Get(target); found && ent.Latest.State.Final() {
			fin, ok = ent.Latest, true
		}
	}
	switch {
	case ok && fin.State == schemas.StateCancelled:
		return CancelResult{Target: target, TargetState: schemas.StateCancelled}, nil
	case ok:
		return nil, job.Errorf(schemas.ErrNotCancellable, false, "command %s already %s", target, fin.State)
	}
	return nil, job.Errorf(schemas.ErrNotFound, false, "command %s is not running (unknown id, or not received yet)", target)
}
