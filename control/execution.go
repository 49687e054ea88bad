package control

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"runtime/debug"
	"sync"
	"time"

	"github.com/seed-a550a1ef/kafka-qdrant/control/job"
	"github.com/seed-a550a1ef/kafka-qdrant/schemas"
)

// execution is one command in flight on this runner.
type execution struct {
	cmd    schemas.Command
	h      job.Handler
	prev   *schemas.Status // last status of an earlier attempt (resume)
	ep     *epoch
	keys   []string // queue keys (queueKeys)
	ctx    context.Context
	cancel context.CancelCauseFunc
	done   chan struct{} // closed once final or abandoned

	// Guarded by Runner.mu.
	refs        []offsetRef // the record and its in-flight duplicates
	started     bool        // running, or claimed by a cancel while queued
	abandoned   bool
	cancelledBy string
	final       *schemas.Status

	// Guarded by pmu: what running events carry.
	pmu        sync.Mutex
	progress   *schemas.Progress // latest reported
	sent       *schemas.Progress // latest published in a progress event
	checkpoint json.RawMessage   // latest saved (or restored)
	slotQueued bool              // a progress slot is queued
	lastQueued time.Time         // when the last progress slot was queued
	timer      *time.Timer       // pending rate-limited progress
	closing    bool              // a final is being published: no more running events
}

func newExecution(cmd schemas.Command, h job.Handler, prev *schemas.Status, ep *epoch, ref offsetRef) *execution {
	e := &execution{cmd: cmd, h: h, prev: prev, ep: ep, refs: []offsetRef{ref}, done: make(chan struct{})}
	e.ctx, e.cancel = context.WithCancelCause(ep.runCtx)
	e.keys = queueKeys(cmd, h)
	if prev != nil && len(prev.Checkpoint) > 0 {
		e.checkpoint = prev.Checkpoint
	}
	return e
}

// startLocked runs e in its own goroutine. r.mu is held.
func (r *Runner) startLocked(e *execution) {
	e.started = true
	r.wg.Add(1)
	go r.execute(e)
}

func (r *Runner) execute(e *execution) {
	defer r.wg.Done()
	r.m.running.Inc()
	defer r.m.running.Dec()
	start := r.cfg.Clock.Now()

	detail := "started on " + r.cfg.Replica
	if e.prev != nil {
		detail = fmt.Sprintf("resumed on %s (previous owner %s, last state %s)", r.cfg.Replica, e.prev.Replica, e.prev.State)
	}
	if err := r.publishNow(e.ctx, e.ep, e.running(&schemas.Progress{Detail: detail})); err != nil && e.ctx.Err() == nil {
		r.log.Warn("running status not published", "id", e.cmd.ID, "err", err)
	}

	res, err := r.runHandler(e)
	final, ok := r.outcome(e, res, err)
	if !ok {
		r.abandon(e, "handed over")
		return
	}
	r.conclude(e, final, r.cfg.Clock.Now().Sub(start))
}

// running is a running event of e with progress p and e's checkpoint.
func (e *execution) running(p *schemas.Progress) schemas.Status {
	e.pmu.Lock()
	defer e.pmu.Unlock()
	return e.runningLocked(p)
}

func (e *execution) runningLocked(p *schemas.Progress) schemas.Status {
	st := schemas.Status{CommandID: e.cmd.ID, Type: e.cmd.Type, Collection: e.cmd.Collection, State: schemas.StateRunning,
		Progress: p, Checkpoint: e.checkpoint}
	return st
}

// runHandler calls the handler, turning a panic into an internal error.
func (r *Runner) runHandler(e *execution) (res any, err error) {
	defer func() {
		if p := recover(); p != nil {
			r.log.Error("command handler panicked", "id", e.cmd.ID, "type", e.cmd.Type, "panic", p, "stack", string(debug.Stack()))
			res, err = nil, job.Errorf(schemas.ErrInternal, false, "%s handler panicked: %v", e.cmd.Type, p)
		}
	}()
	return e.h.Run(e.ctx, e.cmd, &reporter{r: r, e: e})
}

// outcome turns a handler's return into the final status; ok is false when
// the command was handed over and must not get one.
func (r *Runner) outcome(e *execution, res any, err error) (schemas.Status, bool) {
	cause := context.Cause(e.ctx)
	stopped := e.ctx.Err() != nil
	switch {
	case err == nil:
		st := r.status(e.cmd, schemas.StateSucceeded)
		if res != nil {
			b, merr := json.Marshal(res)
			if merr != nil {
				st.State = schemas.StateFailed
				st.Error = &schemas.StatusError{Code: schemas.ErrInternal, Message: fmt.Sprintf("encoding the result of %s: %v", e.cmd.ID, merr)}
				return st, true
			}
			st.Result = b
		}
		return st, true
	case stopped && errors.Is(cause, job.ErrHandover), errors.Is(err, job.ErrNotOwner):
		return schemas.Status{}, false
	case stopped && errors.Is(cause, job.ErrCancelled):
		st := r.status(e.cmd, schemas.StateCancelled)
		r.mu.Lock()
		by := e.cancelledBy
		r.mu.Unlock()
		st.Error = &schemas.StatusError{Code: schemas.ErrCancelled, Message: fmt.Sprintf("cancelled by command %s", by)}
		return st, true
	}
	st := r.status(e.cmd, schemas.StateFailed)
	st.Error = job.StatusErrorOf(err, schemas.ErrInternal)
	return st, true
}

// conclude publishes e's final status (retrying while the epoch lasts)
// and completes e; ran < 0 means the command never ran (no duration
// observed). It returns false when the final could not be published: the
// command is given up and the next owner decides (from the status topic)
// whether it still has to run.
func (r *Runner) conclude(e *execution, st schemas.Status, ran time.Duration) bool {
	e.pmu.Lock()
	e.closing = true
	if e.timer != nil {
		e.timer.Stop()
	}
	e.pmu.Unlock()
	// Duplicates of the command handled from here on join e while its
	// final is being published: their records may follow the final on
	// the status topic, so they get it again below.
	r.mu.Lock()
	joined := len(e.refs)
	r.mu.Unlock()
	if _, err := st.Encode(); errors.Is(err, schemas.ErrStatusTooLarge) {
		r.log.Error("final status too large; publishing a failure instead", "id", e.cmd.ID, "err", err)
		st.State, st.Result = schemas.StateFailed, nil
		st.Error = &schemas.StatusError{Code: schemas.ErrInternal, Message: fmt.Sprintf("the %s result does not fit in a status event: %v", e.cmd.Type, err)}
	}
	b := job.Backoff{Initial: 100 * time.Millisecond, Max: 2 * time.Second}
	for {
		if pub := r.publisherOf(e.ep); pub != nil {
			pub.drop(e.cmd.ID)
		}
		err := r.publishNow(context.Background(), e.ep, st)
		if err == nil {
			break
		}
		if errors.Is(err, job.ErrNotOwner) {
			r.log.Warn("final status not published; the next owner of the control partition decides", "id", e.cmd.ID, "state", st.State, "err", err)
			r.giveUp(e)
			return false
		}
		r.log.Warn("publishing final status, retrying", "id", e.cmd.ID, "state", st.State, "err", err)
		select {
		case <-e.ep.ended:
		case <-time.After(b.Next()):
		}
	}
	r.m.total.WithLabelValues(typeLabel(e.cmd.Type), string(st.State)).Inc()
	if ran >= 0 {
		r.m.duration.WithLabelValues(typeLabel(e.cmd.Type)).Observe(ran.Seconds())
	}
	lvl := r.log.Info
	if st.State != schemas.StateSucceeded {
		lvl = r.log.Warn
	}
	args := []any{"id", e.cmd.ID, "type", e.cmd.Type, "collection", e.cmd.Collection, "state", st.State}
	if st.Error != nil {
		args = append(args, "code", st.Error.Code, "err", st.Error.Message)
	}
	lvl("command finished", args...)
	r.complete(e, st)
	r.mu.Lock()
	late := len(e.refs) > joined
	r.mu.Unlock()
	if late {
		// As a duplicate of a finished command gets its final (republish).
		if err := r.publishNow(context.Background(), e.ep, st); err != nil {
			r.log.Warn("final status not re-published for a duplicate that arrived while it was published", "id", e.cmd.ID, "err", err)
		}
	}
	return true
}

// complete records e's final state: its offsets may be committed, its id
// is known final, and the next command of its collection starts.
func (r *Runner) complete(e *execution, st schemas.Status) {
	r.mu.Lock()
	e.final = &st
	r.finals.put(st)
	for _, ref := range e.refs {
		ref.offs.markDone(ref.partition, ref.offset)
	}
	r.detachLocked(e)
	r.mu.Unlock()
	close(e.done)
	r.kickCommit()
}

// giveUp drops e without a final state and without a running event: a
// final may or may not have reached the topic.
func (r *Runner) giveUp(e *execution) {
	r.mu.Lock()
	ok := r.abandonLocked(e)
	r.mu.Unlock()
	if ok {
		close(e.done)
	}
}

// abandonLocked marks e abandoned and detaches it; false when it was
// abandoned already or has a final state. r.mu is held.
func (r *Runner) abandonLocked(e *execution) bool {
	if e.abandoned || e.final != nil {
		return false
	}
	e.abandoned = true
	r.detachLocked(e)
	return true
}

// abandon gives e up without a final state: the next owner resumes it.
// A running command gets a best-effort running event saying so.
func (r *Runner) abandon(e *execution, why string) {
	r.mu.Lock()
	if !r.abandonLocked(e) {
		r.mu.Unlock()
		return
	}
	until := time.Now().Add(5 * time.Second)
	if d := e.ep.deadline; !d.IsZero() && d.Before(until) {
		until = d
	}
	r.mu.Unlock()
	e.pmu.Lock()
	closing := e.closing
	e.closing = true
	if e.timer != nil {
		e.timer.Stop()
	}
	st := e.runningLocked(&schemas.Progress{Detail: fmt.Sprintf("interrupted on %s (%s); the next owner of the control partition resumes it", r.cfg.Replica, why)})
	e.pmu.Unlock()
	if !closing {
		if pub := r.publisherOf(e.ep); pub != nil {
			pub.drop(e.cmd.ID)
		}
		pctx, cancel := context.WithDeadline(context.Background(), until)
		_ = r.publishNow(pctx, e.ep, st)
		cancel()
	}
	close(e.done)
}

// detachLocked removes e from the in-flight set and its queue, starting
// the next command of the queue when e was running at its head.
func (r *Runner) detachLocked(e *execution) {
	if r.active[e.cmd.ID] == e {
		delete(r.active, e.cmd.ID)
	}
	r.dequeueLocked(e)
}
