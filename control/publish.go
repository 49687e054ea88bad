package control

import (
	"bytes"
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/seed-a550a1ef/kafka-qdrant/schemas"
)

// status returns a status event of cmd in state st, stamped now.
func (r *Runner) status(cmd schemas.Command, st schemas.State) schemas.Status {
	return schemas.Status{
		CommandID: cmd.ID, Type: cmd.Type, Collection: cmd.Collection, State: st,
		Replica: r.cfg.Replica, Time: r.cfg.Clock.Now().UTC(),
	}
}

// publish writes s to the status topic and waits for Kafka's
// acknowledgement (acks=all, idempotent producer), retrying inside the
// client until ctx ends.
func (r *Runner) publish(ctx context.Context, s schemas.Status) error {
	b, err := s.Encode()
	if err != nil {
		return err
	}
	rec := &kgo.Record{Topic: r.cfg.Config.Control.StatusTopic, Key: []byte(s.CommandID), Value: b}
	if err := r.cl.ProduceSync(ctx, rec).FirstErr(); err != nil {
		return fmt.Errorf("publishing %s status of %s: %w", s.State, s.CommandID, err)
	}
	r.log.Debug("status published", "id", s.CommandID, "type", s.Type, "state", s.State)
	return nil
}

// reporter is the job.Reporter of one execution: it publishes running
// events with progress, dropping repeats and changes that come sooner than
// ProgressInterval after the last published one.
type reporter struct {
	r *Runner
	e *execution

	mu     sync.Mutex
	last   schemas.Progress
	lastAt time.Time
	any    bool
}

func (p *reporter) Previous() *schemas.Status { return p.e.prev }

func (p *reporter) Progress(pr schemas.Progress) {
	p.mu.Lock()
	now := p.r.cfg.Clock.Now()
	same := p.any && pr.Done == p.last.Done && pr.Total == p.last.Total && pr.Detail == p.last.Detail && bytes.Equal(pr.Data, p.last.Data)
	tooSoon := p.any && p.r.cfg.ProgressInterval > 0 && now.Sub(p.lastAt) < p.r.cfg.ProgressInterval
	if same || tooSoon {
		p.mu.Unlock()
		return
	}
	p.last, p.lastAt, p.any = pr, now, true
	p.mu.Unlock()

	s := p.r.status(p.e.cmd, schemas.StateRunning)
	s.Progress = &pr
	if err := p.r.publish(p.e.ctx, s); err != nil && p.e.ctx.Err() == nil {
		p.r.log.Warn("progress not published", "id", p.e.cmd.ID, "err", err)
	}
}
