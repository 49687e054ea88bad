package control

import (
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"

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
