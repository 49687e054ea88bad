package control

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/seed-a550a1ef/kafka-qdrant/control/job"
	"github.com/seed-a550a1ef/kafka-qdrant/schemas"
)

// stepper is a handler that restores its checkpoint, saves step n+1 and
// then waits until stopped; it records what each attempt restored and
// whether the checkpoint was in the status view when Checkpoint returned.
type stepper struct {
	mu       sync.Mutex
	restored []int
	visible  []bool
	view     func(id string) (schemas.Status, bool)
	saved    chan struct{}
}

type stepState struct {
	Step int `json:"step"`
}

func (s *stepper) Validate(schemas.Command) error { return nil }

func (s *stepper) Run(ctx context.Context, cmd schemas.Command, rep job.Reporter) (any, error) {
	var st stepState
	if _, err := rep.Restore(&st); err != nil {
		return nil, err
	}
	st.Step++
	if err := rep.Checkpoint(ctx, st); err != nil {
		return nil, err
	}
	// Read-your-writes: what Checkpoint acknowledged is committed.
	latest, ok := s.view(cmd.ID)
	var back stepState
	visible := ok && len(latest.Checkpoint) > 0 && jsonDecode(latest.Checkpoint, &back) == nil && back.Step == st.Step
	s.mu.Lock()
	s.restored = append(s.restored, st.Step-1)
	s.visible = append(s.visible, visible)
	s.mu.Unlock()
	s.saved <- struct{}{}
	<-ctx.Done()
	return nil, context.Cause(ctx)
}

// A checkpoint is acknowledged by Kafka before Checkpoint returns, is
// carried by every later running event of the command (the compacted
// topic keeps the latest), and the next attempt restores it after a
// hand-over.
func TestCheckpointSurvivesHandover(t *testing.T) {
	e := newEnv(t)
	var stepA, stepB *stepper
	mk := func(s **stepper) func(*RunnerConfig) {
		// view is set before the runner starts: it may run job-1 at once.
		*s = &stepper{saved: make(chan struct{}, 1), view: func(id string) (schemas.Status, bool) { return latestOf(e, id) }}
		return func(c *RunnerConfig) { c.Handlers = map[schemas.CommandType]job.Handler{schemas.CommandBackup: *s} }
	}
	a := e.startRunner("kq-a", mk(&stepA))
	e.sendCmd(schemas.Command{ID: "job-1", Type: schemas.CommandBackup, Collection: "movies"})
	<-stepA.saved
	if err := a.stop(t); err != nil {
		t.Fatal(err)
	}
	evs := e.log.waitFor("job-1", "the interruption", func(evs []schemas.Status) bool {
		return len(evs) > 0 && evs[len(evs)-1].Progress != nil && len(evs[len(evs)-1].Checkpoint) > 0
	})
	if last := evs[len(evs)-1]; string(last.Checkpoint) != `{"step":1}` {
		t.Fatalf("the interrupted event carries checkpoint %s, want step 1:\n%s", last.Checkpoint, dump(evs))
	}
	e.startRunner("kq-b", mk(&stepB))
	<-stepB.saved
	stepA.mu.Lock()
	stepB.mu.Lock()
	defer stepA.mu.Unlock()
	defer stepB.mu.Unlock()
	if fmt.Sprint(stepA.restored, stepB.restored) != "[0] [1]" {
		t.Fatalf("restored %v then %v, want nothing then step 1", stepA.restored, stepB.restored)
	}
	if !stepA.visible[0] || !stepB.visible[0] {
		t.Fatalf("checkpoint not on the topic when Checkpoint returned: %v %v", stepA.visible, stepB.visible)
	}
}

// latestOf is the latest event of id on the status topic, read now.
func latestOf(e *env, id string) (schemas.Status, bool) {
	e.log.syncEnd()
	evs := e.log.events(id)
	if len(evs) == 0 {
		return schemas.Status{}, false
	}
	return evs[len(evs)-1], true
}

// reporterProbe reports progress 1..n as fast as it can, then waits until
// published(n) (the latest progress goes out at the end of the interval;
// a final would drop it) and returns.
type reporterProbe struct {
	n         int
	published func(done int64) bool
}

func (p reporterProbe) Validate(schemas.Command) error { return nil }

func (p reporterProbe) Run(ctx context.Context, _ schemas.Command, rep job.Reporter) (any, error) {
	for i := 1; i <= p.n; i++ {
		rep.Progress(schemas.Progress{Done: int64(i), Total: int64(p.n)})
	}
	for !p.published(int64(p.n)) {
		select {
		case <-ctx.Done():
			return nil, context.Cause(ctx)
		case <-time.After(10 * time.Millisecond): // polling the status log
		}
	}
	return map[string]int{"reported": p.n}, nil
}

// Progress is coalesced and rate-limited: a burst of 10,000 reports makes
// a handful of events, the last of them carrying the latest progress.
func TestProgressIsCoalescedAndRateLimited(t *testing.T) {
	e := newEnv(t)
	e.startRunner("kq-a", func(c *RunnerConfig) {
		c.ProgressInterval = 200 * time.Millisecond
		c.Handlers = map[schemas.CommandType]job.Handler{schemas.CommandBackup: reporterProbe{n: 10000, published: func(done int64) bool {
			for _, s := range e.log.events("job-1") {
				if s.Progress != nil && s.Progress.Done == done {
					return true
				}
			}
			return false
		}}}
	})
	e.sendCmd(schemas.Command{ID: "job-1", Type: schemas.CommandBackup, Collection: "movies"})
	if fin := e.log.waitFinal("job-1"); fin.State != schemas.StateSucceeded {
		t.Fatalf("job-1: %+v", fin)
	}
	var progress []int64
	for _, s := range e.log.events("job-1") {
		if s.State == schemas.StateRunning && s.Progress != nil && s.Progress.Total > 0 {
			progress = append(progress, s.Progress.Done)
		}
	}
	if len(progress) == 0 || len(progress) > 5 || progress[len(progress)-1] != 10000 {
		t.Fatalf("progress events %v, want a few ending with 10000", progress)
	}
}

// Checkpoint and the ownership token fail with ErrNotOwner once the
// replica is no longer the owner.
func TestCheckpointAfterHandoverFails(t *testing.T) {
	e := newEnv(t)
	got := make(chan error, 2)
	h := handlerFunc(func(ctx context.Context, rep job.Reporter) (any, error) {
		<-ctx.Done()
		got <- rep.Checkpoint(context.Background(), stepState{Step: 9})
		got <- rep.Owner().Check(context.Background())
		return nil, context.Cause(ctx)
	})
	a := e.startRunner("kq-a", func(c *RunnerConfig) { c.Handlers = map[schemas.CommandType]job.Handler{schemas.CommandBackup: h} })
	e.sendCmd(schemas.Command{ID: "job-1", Type: schemas.CommandBackup, Collection: "movies"})
	e.log.waitState("job-1", schemas.StateRunning, nil)
	if err := a.stop(t); err != nil {
		t.Fatal(err)
	}
	for i := range 2 {
		if err := <-got; !errors.Is(err, job.ErrNotOwner) {
			t.Fatalf("call %d after the hand-over: %v, want ErrNotOwner", i, err)
		}
	}
	for _, s := range e.log.events("job-1") {
		if string(s.Checkpoint) == `{"step":9}` {
			t.Fatal("a checkpoint saved after the hand-over reached the topic")
		}
	}
}

type handlerFunc func(ctx context.Context, rep job.Reporter) (any, error)

func (handlerFunc) Validate(schemas.Command) error { return nil }
func (h handlerFunc) Run(ctx context.Context, _ schemas.Command, rep job.Reporter) (any, error) {
	return h(ctx, rep)
}

func jsonDecode(b []byte, v any) error { return json.Unmarshal(b, v) }
