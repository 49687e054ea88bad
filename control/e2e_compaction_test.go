package control

import (
	"context"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/seed-a550a1ef/kafka-qdrant/schemas"
)

// TestE2ECompactionKeepsFinals runs on the real broker of `make test`
// (KQ_E2E_KAFKA_BROKERS) with a status topic compacted as aggressively as
// Kafka allows. The owner of the control partition is cut off in the
// middle of a batch while a long command runs (a gate, so the test holds
// it on a real Qdrant too); the standby takes over and finishes
// everything; the cut-off replica comes back. After the log
// cleaner ran, each command's only event is its final, and a new runner
// that gets every command again re-publishes the finals instead of running
// anything again.
//
//	KQ_E2E_KAFKA_BROKERS=127.0.0.1:9092 go test -run TestE2ECompaction -v ./control/
func TestE2ECompactionKeepsFinals(t *testing.T) {
	e := newRealEnv(t, map[string]*string{
		"cleanup.policy":            new("compact"),
		"segment.ms":                new("100"),
		"min.cleanable.dirty.ratio": new("0.01"),
		"min.compaction.lag.ms":     new("0"),
		"delete.retention.ms":       new("100"),
	})
	movies, other := e.coll("movies"), e.coll("other")
	e.createCollection(movies, 3000)
	e.createCollection(other, 100)
	ga, gb, gc := newGate(), newGate(), newGate()
	a := e.startRunner("kq-a", withGate(ga), func(c *RunnerConfig) { c.HandoverTimeout = 2 * time.Second })
	e.sendCmd(schemas.Command{ID: "defer-1", Type: schemas.CommandIndexDefer, Collection: movies})
	if fin := e.log.waitFinal("defer-1"); fin.State != schemas.StateSucceeded {
		t.Fatalf("defer-1: %+v", fin)
	}
	b := e.startRunner("kq-b", withGate(gb))
	e.waitMembers(2)
	e.sendCmd(schemas.Command{ID: "job-1", Type: schemas.CommandBackup, Collection: movies})
	e.log.waitState("job-1", schemas.StateRunning, func(s schemas.Status) bool { return s.Replica == "kq-a" && s.Progress != nil })
	a.dialer.freeze(frozenKeys...)
	e.sendCmd(schemas.Command{ID: "nudge-1", Type: schemas.CommandIndexDefer, Collection: other})
	if fin := e.log.waitFinal("nudge-1"); fin.Replica != "kq-b" {
		t.Fatalf("nudge-1: %+v", fin)
	}
	e.log.waitState("job-1", schemas.StateRunning, func(s schemas.Status) bool { return s.Replica == "kq-b" })
	close(gb.open)
	if fin := e.log.waitFinal("job-1"); fin.Replica != "kq-b" || fin.State != schemas.StateSucceeded {
		t.Fatalf("job-1: %+v", fin)
	}
	a.dialer.thaw()
	waitGauge(t, a, "kafka_qdrant_commands_running", 0)
	_ = a.stop(t)
	if err := b.stop(t); err != nil {
		t.Fatal(err)
	}
	ids := []string{"defer-1", "job-1", "nudge-1"}

	// Let the cleaner run: roll the active segment past every event (a
	// tombstone for an id nobody uses), then wait until each command has
	// a single event left.
	deadline := time.Now().Add(3 * time.Minute)
	for {
		if err := e.prod.ProduceSync(t.Context(), &kgo.Record{Topic: e.stTopic, Key: []byte("kq-e2e-roll")}).FirstErr(); err != nil {
			t.Fatal(err)
		}
		counts, latest := readStatusTopic(t, e)
		if counts["defer-1"] == 1 && counts["job-1"] == 1 && counts["nudge-1"] == 1 {
			for _, id := range ids {
				if !latest[id].State.Final() {
					t.Fatalf("after compaction %s is %s (%s): a final did not stay final", id, latest[id].State, latest[id].Replica)
				}
			}
			t.Logf("compacted: %v", counts)
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the status topic was not compacted within 3 minutes: %v", counts)
		}
		time.Sleep(time.Second) // waiting for the broker's log cleaner, bounded by the deadline
	}

	var updates int
	if e.qs != nil {
		updates = e.qs.CallCount(updateMethod)
	}
	before := map[string]int{}
	for _, id := range ids {
		before[id] = len(e.log.events(id))
	}
	e.startRunner("kq-c", withGate(gc))
	for _, id := range ids {
		e.sendCmd(schemas.Command{ID: id, Type: map[string]schemas.CommandType{"defer-1": schemas.CommandIndexDefer,
			"job-1": schemas.CommandBackup, "nudge-1": schemas.CommandIndexDefer}[id],
			Collection: map[string]string{"defer-1": movies, "job-1": movies, "nudge-1": other}[id]})
	}
	for _, id := range ids {
		evs := e.log.waitFor(id, "the re-published final", func(evs []schemas.Status) bool { return len(evs) > before[id] })
		for _, s := range evs[before[id]:] {
			if !s.State.Final() || s.Replica == "kq-c" {
				t.Fatalf("%s ran again after compaction instead of re-publishing its final:\n%s", id, dump(evs[before[id]:]))
			}
		}
	}
	e.waitCommitted(e.endOffset())
	if n := gc.runs.Load(); n != 0 {
		t.Fatalf("re-sent job-1 ran %d times on kq-c", n)
	}
	if e.qs != nil {
		if n := e.qs.CallCount(updateMethod) - updates; n != 0 {
			t.Fatalf("re-sent commands updated Qdrant %d times", n)
		}
	}
}

// readStatusTopic reads the whole status topic at read_committed: the
// number of records per key, and each key's last event.
func readStatusTopic(t *testing.T, e *env) (map[string]int, map[string]schemas.Status) {
	t.Helper()
	cl, err := kgo.NewClient(append(e.kafkaOpts(), kgo.ConsumeTopics(e.stTopic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.FetchIsolationLevel(kgo.ReadCommitted()), kgo.KeepControlRecords())...)
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	e.log.syncEnd()
	end := e.log.endOffset()
	counts, latest := map[string]int{}, map[string]schemas.Status{}
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	for {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			return counts, latest
		}
		done := false
		fs.EachRecord(func(r *kgo.Record) {
			if r.Offset >= end-1 {
				done = true
			}
			if r.Attrs.IsControl() || r.Value == nil {
				return
			}
			s, err := schemas.DecodeStatus(r.Value)
			if err != nil {
				return
			}
			counts[s.CommandID]++
			latest[s.CommandID] = s
		})
		if done {
			return counts, latest
		}
	}
}
