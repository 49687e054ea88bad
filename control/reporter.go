package control

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/seed-a550a1ef/kafka-qdrant/control/job"
	"github.com/seed-a550a1ef/kafka-qdrant/schemas"
)

// status returns a status event of cmd in state st, stamped now.
func (r *Runner) status(cmd schemas.Command, st schemas.State) schemas.Status {
	return schemas.Status{
		CommandID: cmd.ID, Type: cmd.Type, Collection: cmd.Collection, State: st,
		Replica: r.cfg.Replica, Time: r.cfg.Clock.Now().UTC(),
	}
}

// publisherOf returns ep's publisher (nil before the epoch is ready).
func (r *Runner) publisherOf(ep *epoch) *publisher {
	r.mu.Lock()
	defer r.mu.Unlock()
	return ep.pub
}

// publishNow stamps s (when it has no time yet) and writes it through ep's publisher, waiting for
// Kafka's commit at most callTimeout (or until ctx ends). Errors wrapping
// job.ErrNotOwner mean the epoch can publish nothing more.
func (r *Runner) publishNow(ctx context.Context, ep *epoch, s schemas.Status) error {
	pub := r.publisherOf(ep)
	if pub == nil {
		return ownerError("ownership epoch not ready")
	}
	if s.Time.IsZero() {
		s.Replica, s.Time = r.cfg.Replica, r.cfg.Clock.Now().UTC()
	}
	b, err := s.Encode()
	if err != nil {
		return err
	}
	pctx, cancel := context.WithTimeout(ctx, r.callTimeout)
	defer cancel()
	if err := pub.publish(pctx, s.CommandID, b); err != nil {
		return fmt.Errorf("publishing %s status of %s: %w", s.State, s.CommandID, err)
	}
	r.log.Debug("status published", "id", s.CommandID, "type", s.Type, "state", s.State)
	return nil
}

// reporter is the job.Reporter of one execution.
type reporter struct {
	r *Runner
	e *execution
}

func (p *reporter) Previous() *schemas.Status { return p.e.prev }

func (p *reporter) Owner() job.Token { return ownerToken{r: p.r, ep: p.e.ep} }

// Progress records pr as the latest progress and makes sure a progress
// slot is queued: at once when the last one was queued at least
// ProgressInterval ago, else by a timer at that time. Never blocks.
func (p *reporter) Progress(pr schemas.Progress) {
	e := p.e
	e.pmu.Lock()
	if e.closing {
		e.pmu.Unlock()
		return
	}
	e.progress = &pr
	e.pmu.Unlock()
	p.r.queueProgress(e)
}

// queueProgress queues e's progress slot, rate-limited by
// ProgressInterval.
func (r *Runner) queueProgress(e *execution) {
	e.pmu.Lock()
	if e.closing || e.slotQueued || e.timer != nil {
		e.pmu.Unlock()
		return
	}
	if wait := r.cfg.ProgressInterval - time.Since(e.lastQueued); r.cfg.ProgressInterval > 0 && wait > 0 {
		e.timer = time.AfterFunc(wait, func() {
			e.pmu.Lock()
			e.timer = nil
			e.pmu.Unlock()
			r.queueProgress(e)
		})
		e.pmu.Unlock()
		return
	}
	pub := r.publisherOf(e.ep)
	if pub == nil {
		e.pmu.Unlock()
		return
	}
	e.slotQueued, e.lastQueued = true, time.Now()
	e.pmu.Unlock()
	pub.progress(e.cmd.ID, func() ([]byte, bool) { return r.progressEvent(e) })
}

// progressEvent builds e's progress event when its slot is written; false
// when there is nothing new (or e is ending).
func (r *Runner) progressEvent(e *execution) ([]byte, bool) {
	e.pmu.Lock()
	defer e.pmu.Unlock()
	e.slotQueued = false
	if e.closing || e.progress == nil || sameProgress(e.progress, e.sent) {
		return nil, false
	}
	st := e.runningLocked(e.progress)
	st.Replica, st.Time = r.cfg.Replica, r.cfg.Clock.Now().UTC()
	b, err := st.Encode()
	if err != nil {
		r.log.Warn("progress event not encodable; dropped", "id", e.cmd.ID, "err", err)
		return nil, false
	}
	e.sent = e.progress
	return b, true
}

func sameProgress(a, b *schemas.Progress) bool {
	return a != nil && b != nil && a.Done == b.Done && a.Total == b.Total && a.Detail == b.Detail && bytes.Equal(a.Data, b.Data)
}

// Checkpoint saves v in a running event and waits until Kafka committed
// it, retrying while Kafka is unreachable. Events published after the call
// carry v too, so the latest event of the command always has the latest
// checkpoint (the status topic is compacted to it).
func (p *reporter) Checkpoint(ctx context.Context, v any) error {
	e, r := p.e, p.r
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encoding the checkpoint of %s: %w", e.cmd.ID, err)
	}
	if err := r.epochErr(e.ep); err != nil {
		return err
	}
	e.pmu.Lock()
	if e.closing {
		e.pmu.Unlock()
		return ownerError("the command is ending")
	}
	e.checkpoint = b
	st := e.runningLocked(e.progress)
	if st.Progress == nil {
		st.Progress = &schemas.Progress{Detail: "checkpoint saved"}
	}
	e.pmu.Unlock()
	if _, err := st.Encode(); err != nil {
		return fmt.Errorf("checkpoint of %s: %w", e.cmd.ID, err)
	}
	bo := job.Backoff{Initial: 100 * time.Millisecond, Max: 2 * time.Second}
	for {
		if err := r.epochErr(e.ep); err != nil {
			return err
		}
		err := r.publishNow(ctx, e.ep, st)
		switch {
		case err == nil:
			return nil
		case errors.Is(err, job.ErrNotOwner):
			return err
		case ctx.Err() != nil:
			return context.Cause(ctx)
		}
		r.log.Warn("saving checkpoint, retrying", "id", e.cmd.ID, "err", err)
		select {
		case <-ctx.Done():
			return context.Cause(ctx)
		case <-e.ep.ended:
		case <-time.After(bo.Next()):
		}
	}
}

// Restore decodes the latest checkpoint (this attempt's or an earlier
// one's) into v.
func (p *reporter) Restore(v any) (bool, error) {
	p.e.pmu.Lock()
	cp := p.e.checkpoint
	p.e.pmu.Unlock()
	if len(cp) == 0 {
		return false, nil
	}
	if err := json.Unmarshal(cp, v); err != nil {
		return false, fmt.Errorf("decoding the checkpoint of %s: %w", p.e.cmd.ID, err)
	}
	return true, nil
}
