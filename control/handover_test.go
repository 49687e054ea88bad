package control

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"

	"github.com/seed-a550a1ef/kafka-qdrant/control/job"
	"github.com/seed-a550a1ef/kafka-qdrant/schemas"
)

// waitMembers waits until the control group has n members.
func (e *env) waitMembers(n int) {
	e.t.Helper()
	adm := kadm.NewClient(e.prod)
	deadline := time.Now().Add(20 * time.Second)
	for {
		gs, err := adm.DescribeGroups(e.t.Context(), Group(e.cfg.Kafka.Group))
		if err == nil {
			if g, ok := gs[Group(e.cfg.Kafka.Group)]; ok && len(g.Members) == n && g.State == "Stable" {
				return
			}
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("control group never had %d stable members", n)
		}
		time.Sleep(20 * time.Millisecond) // polling Kafka's group state, bounded by the deadline
	}
}

func byReplica(evs []schemas.Status, replica string) []schemas.Status {
	var out []schemas.Status
	for _, s := range evs {
		if s.Replica == replica {
			out = append(out, s)
		}
	}
	return out
}

// The owner of the control partition dies (its connections to Kafka are cut
// at once: no commit, no leave, nothing published after) while index_build
// runs; the standby replica takes the partition over when the session
// expires, resumes the build and publishes its one and only final status.
func TestRunnerKilledDuringIndexBuild(t *testing.T) {
	e := newEnv(t)
	e.createCollection("movies", 3000)
	a := e.startRunner("kq-a", func(c *RunnerConfig) { c.HandoverTimeout = time.Second })
	e.sendCmd(schemas.Command{ID: "defer-1", Type: schemas.CommandIndexDefer, Collection: "movies"})
	if fin := e.log.waitFinal("defer-1"); fin.State != schemas.StateSucceeded || fin.Replica != "kq-a" {
		t.Fatalf("defer-1: %+v", fin)
	}
	e.waitCommitted(1)
	e.startRunner("kq-b")
	e.waitMembers(2)

	e.sendCmd(schemas.Command{ID: "build-1", Type: schemas.CommandIndexBuild, Collection: "movies"})
	e.log.waitState("build-1", schemas.StateRunning, func(s schemas.Status) bool { return s.Replica == "kq-a" && yellow(s) })

	a.dialer.sever()
	severed := time.Now()

	resumed := e.log.waitState("build-1", schemas.StateRunning, func(s schemas.Status) bool {
		return s.Replica == "kq-b" && s.Progress != nil && strings.HasPrefix(s.Progress.Detail, "resumed on kq-b (previous owner kq-a")
	})
	t.Logf("resumed %s after the kill: %s", time.Since(severed), resumed.Progress.Detail)
	e.log.waitState("build-1", schemas.StateRunning, func(s schemas.Status) bool { return s.Replica == "kq-b" && yellow(s) })
	e.clock.Advance(10 * time.Second)
	fin := e.log.waitFinal("build-1")
	if fin.State != schemas.StateSucceeded || fin.Replica != "kq-b" {
		t.Fatalf("build-1 final %+v", fin)
	}
	stopStart := time.Now()
	if err := a.stop(t); err != nil {
		t.Logf("killed runner returned %v", err)
	}
	t.Logf("killed runner stopped in %s", time.Since(stopStart))
	e.waitCommitted(e.endOffset())

	evs := e.log.events("build-1")
	if n := finals(evs); n != 1 {
		t.Fatalf("build-1 has %d final statuses, want exactly 1:\n%s", n, dump(evs))
	}
	if n := finals(byReplica(evs, "kq-a")); n != 0 {
		t.Fatalf("the killed replica published a final status:\n%s", dump(evs))
	}
	if n := count(byReplica(evs, "kq-b"), schemas.StateAccepted); n != 0 {
		t.Fatalf("the new owner accepted the command again instead of resuming it:\n%s", dump(evs))
	}
	if n := finals(e.log.events("defer-1")); n != 1 {
		t.Fatalf("defer-1 (committed before the kill) has %d finals, want 1", n)
	}
	if m := e.hnswM("movies"); m != 16 {
		t.Fatalf("m = %d, want 16 restored", m)
	}
}

// A replica that stops gracefully hands its running command over: it
// publishes that it was interrupted, commits nothing past it, and the next
// owner resumes it.
func TestGracefulHandover(t *testing.T) {
	e := newEnv(t)
	e.createCollection("movies", 3000)
	a := e.startRunner("kq-a")
	e.sendCmd(schemas.Command{ID: "defer-1", Type: schemas.CommandIndexDefer, Collection: "movies"})
	e.log.waitFinal("defer-1")
	e.sendCmd(schemas.Command{ID: "build-1", Type: schemas.CommandIndexBuild, Collection: "movies"})
	e.log.waitState("build-1", schemas.StateRunning, func(s schemas.Status) bool { return s.Replica == "kq-a" && yellow(s) })

	if err := a.stop(t); err != nil {
		t.Fatalf("Run returned %v after a graceful stop", err)
	}
	e.log.waitState("build-1", schemas.StateRunning, func(s schemas.Status) bool {
		return s.Replica == "kq-a" && s.Progress != nil && strings.HasPrefix(s.Progress.Detail, "interrupted on kq-a")
	})
	if got := e.committed(); got != 1 {
		t.Fatalf("committed %d after handover, want 1 (past defer-1, not past build-1)", got)
	}
	e.startRunner("kq-b")
	e.log.waitState("build-1", schemas.StateRunning, func(s schemas.Status) bool {
		return s.Replica == "kq-b" && s.Progress != nil && strings.HasPrefix(s.Progress.Detail, "resumed on kq-b (previous owner kq-a")
	})
	e.clock.Advance(10 * time.Second)
	if fin := e.log.waitFinal("build-1"); fin.State != schemas.StateSucceeded || fin.Replica != "kq-b" {
		t.Fatalf("build-1 final %+v", fin)
	}
	if n := finals(e.log.events("build-1")); n != 1 {
		t.Fatalf("%d finals", n)
	}
	e.waitCommitted(e.endOffset())
}

// Kafka unreachable when the replica starts: the runner keeps trying and
// serves commands once Kafka answers.
func TestRunnerStartsBeforeKafkaIsReachable(t *testing.T) {
	e := newEnv(t)
	e.createCollection("movies", 100)
	d := &severableDialer{}
	d.sever()
	e.startRunnerWith(d, "kq-a")
	e.sendCmd(schemas.Command{ID: "defer-1", Type: schemas.CommandIndexDefer, Collection: "movies"})
	deadline := time.Now().Add(20 * time.Second)
	for d.refusedDials() < 5 { // the runner keeps trying
		if time.Now().After(deadline) {
			t.Fatalf("the runner stopped dialing after %d attempts", d.refusedDials())
		}
		time.Sleep(10 * time.Millisecond) // polling the dial counter, bounded by the deadline
	}
	if evs := e.log.events("defer-1"); len(evs) != 0 {
		t.Fatalf("a runner cut off from Kafka published:\n%s", dump(evs))
	}
	d.heal()
	if fin := e.log.waitFinal("defer-1"); fin.State != schemas.StateSucceeded {
		t.Fatalf("defer-1 %+v", fin)
	}
}

// afterFirstOf returns the events of evs by replica that come after the
// first event by other (in topic order).
func afterFirstOf(evs []schemas.Status, other, replica string) []schemas.Status {
	var out []schemas.Status
	seen := false
	for _, s := range evs {
		seen = seen || s.Replica == other
		if seen && s.Replica == replica {
			out = append(out, s)
		}
	}
	return out
}

// waitGauge waits (up to 20s) until a runner's gauge has value want.
func waitGauge(t *testing.T, rn *runner, name string, want float64) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for metricValue(t, rn.reg, name, nil) != want {
		if time.Now().After(deadline) {
			t.Fatalf("%s = %v, want %v", name, metricValue(t, rn.reg, name, nil), want)
		}
		time.Sleep(20 * time.Millisecond) // polling a gauge, bounded by the deadline
	}
}

// The owner is cut off from Kafka in the middle of a batch: its produce,
// heartbeat and commit requests hang (it can still read). The standby
// takes the partition over when the session expires and finishes both
// commands. When the network comes back, nothing the former owner does
// may become visible after the new owner's events: no late accepted, no
// late running, no second (different) final.
func TestCutOffMidBatchPublishesNothingLate(t *testing.T) {
	e := newEnv(t)
	e.createCollection("movies", 3000)
	e.createCollection("other", 100)
	a := e.startRunner("kq-a", func(c *RunnerConfig) { c.HandoverTimeout = time.Second })
	e.sendCmd(schemas.Command{ID: "defer-1", Type: schemas.CommandIndexDefer, Collection: "movies"})
	if fin := e.log.waitFinal("defer-1"); fin.State != schemas.StateSucceeded || fin.Replica != "kq-a" {
		t.Fatalf("defer-1: %+v", fin)
	}
	e.waitCommitted(1)
	e.startRunner("kq-b")
	e.waitMembers(2)
	e.sendCmd(schemas.Command{ID: "build-1", Type: schemas.CommandIndexBuild, Collection: "movies"})
	e.log.waitState("build-1", schemas.StateRunning, func(s schemas.Status) bool { return s.Replica == "kq-a" && yellow(s) })

	// Cut off: kq-a reads the next command, and hangs publishing its
	// accepted status.
	a.dialer.freeze(frozenKeys...)
	e.sendCmd(schemas.Command{ID: "nudge-1", Type: schemas.CommandIndexDefer, Collection: "other"})

	// kq-b takes over, resumes build-1 and runs nudge-1.
	if fin := e.log.waitFinal("nudge-1"); fin.State != schemas.StateSucceeded || fin.Replica != "kq-b" {
		t.Fatalf("nudge-1: %+v", fin)
	}
	e.log.waitState("build-1", schemas.StateRunning, func(s schemas.Status) bool { return s.Replica == "kq-b" })
	e.clock.Advance(10 * time.Second)
	if fin := e.log.waitFinal("build-1"); fin.State != schemas.StateSucceeded || fin.Replica != "kq-b" {
		t.Fatalf("build-1: %+v", fin)
	}

	// The network comes back; kq-a's commands end one way or another.
	a.dialer.thaw()
	waitGauge(t, a, "kafka_qdrant_commands_running", 0)
	if err := a.stop(t); err != nil {
		t.Logf("cut-off runner returned %v", err)
	}
	e.log.syncEnd()
	for _, id := range []string{"build-1", "nudge-1"} {
		evs := e.log.events(id)
		if late := afterFirstOf(evs, "kq-b", "kq-a"); len(late) > 0 {
			t.Errorf("%s: the former owner published after the new owner took over:\n%s", id, dump(evs))
		}
		if n := finals(evs); n != 1 {
			t.Errorf("%s has %d finals, want 1:\n%s", id, n, dump(evs))
		}
	}
}

// tokenProbe is a handler that checks its ownership token in a loop and
// records when the check passed, until the check fails or ctx ends.
type tokenProbe struct {
	mu      sync.Mutex
	passed  []time.Time
	endedAt time.Time
	failure error
}

func (p *tokenProbe) Validate(schemas.Command) error { return nil }

func (p *tokenProbe) Run(ctx context.Context, _ schemas.Command, rep job.Reporter) (any, error) {
	for {
		err := rep.Owner().Check(ctx)
		p.mu.Lock()
		if err != nil {
			p.endedAt, p.failure = time.Now(), err
			p.mu.Unlock()
			return nil, err
		}
		p.passed = append(p.passed, time.Now())
		p.mu.Unlock()
		select {
		case <-ctx.Done():
			p.mu.Lock()
			p.endedAt, p.failure = time.Now(), context.Cause(ctx)
			p.mu.Unlock()
			return nil, context.Cause(ctx)
		case <-time.After(10 * time.Millisecond):
		}
	}
}

func (p *tokenProbe) ended() (time.Time, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.endedAt, p.failure
}

// A replica whose heartbeats stop reaching Kafka stops its commands (with
// the hand-over cause) and fails its ownership checks before the session
// expires and the standby can take the partition over.
func TestHeartbeatLossStopsCommandsBeforeTakeover(t *testing.T) {
	e := newEnv(t)
	e.cfg.Kafka.SessionTimeout = 3 * time.Second
	probeA, probeB := &tokenProbe{}, &tokenProbe{}
	a := e.startRunner("kq-a", func(c *RunnerConfig) {
		c.Handlers = map[schemas.CommandType]job.Handler{schemas.CommandBackup: probeA}
	})
	e.sendCmd(schemas.Command{ID: "probe-1", Type: schemas.CommandBackup, Collection: "movies"})
	e.log.waitState("probe-1", schemas.StateRunning, func(s schemas.Status) bool { return s.Replica == "kq-a" })
	e.startRunner("kq-b", func(c *RunnerConfig) {
		c.Handlers = map[schemas.CommandType]job.Handler{schemas.CommandBackup: probeB}
	})
	e.waitMembers(2)

	cut := time.Now()
	a.dialer.freeze(frozenKeys...)
	resumed := e.log.waitState("probe-1", schemas.StateRunning, func(s schemas.Status) bool { return s.Replica == "kq-b" })
	takeover := time.Now()
	stopped, why := probeA.ended()
	t.Logf("cut off at 0; kq-a's handler stopped at %s (%v); kq-b resumed at %s (%s)", stopped.Sub(cut), why, takeover.Sub(cut), resumed.Progress.Detail)
	if stopped.IsZero() || !stopped.Before(takeover) {
		t.Fatalf("kq-a's handler still ran when kq-b took over")
	}
	if !errors.Is(why, job.ErrNotOwner) && !errors.Is(why, job.ErrHandover) {
		t.Fatalf("kq-a's handler ended with %v, want ErrNotOwner or ErrHandover", why)
	}
	if d := stopped.Sub(cut); d > e.cfg.Kafka.SessionTimeout {
		t.Fatalf("kq-a stopped %s after being cut off, later than the session timeout", d)
	}
	probeA.mu.Lock()
	defer probeA.mu.Unlock()
	if n := len(probeA.passed); n > 0 && probeA.passed[n-1].After(cut.Add(200*time.Millisecond)) {
		t.Fatalf("an ownership check passed %s after kq-a was cut off", probeA.passed[n-1].Sub(cut))
	}
}
