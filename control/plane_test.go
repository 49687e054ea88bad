package control

import (
	"bytes"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/seed-a550a1ef/kafka-qdrant/schemas"
)

// publishStatus writes a status event to the status topic directly (as a
// replica of an earlier run would have).
func (e *env) publishStatus(s schemas.Status) {
	e.t.Helper()
	b, err := s.Encode()
	if err != nil {
		e.t.Fatal(err)
	}
	if err := e.prod.ProduceSync(e.t.Context(), &kgo.Record{Topic: e.stTopic, Key: []byte(s.CommandID), Value: b}).FirstErr(); err != nil {
		e.t.Fatal(err)
	}
}

// deleteAllStatus deletes every record of the status topic (DeleteRecords
// up to its end; the topic is compact,delete, as Kafka requires).
func (e *env) deleteAllStatus() {
	e.t.Helper()
	adm := kadm.NewClient(e.prod)
	ends, err := adm.ListEndOffsets(e.t.Context(), e.stTopic)
	if err != nil {
		e.t.Fatal(err)
	}
	resp, err := adm.DeleteRecords(e.t.Context(), ends.Offsets())
	if err == nil {
		err = resp.Error()
	}
	if err != nil {
		e.t.Fatal(err)
	}
}

// The status topic's records were all deleted (DeleteRecords): the tail
// holds none. A runner still loads the view, joins and serves commands.
func TestRunnerJoinsWhenTheStatusTailHasNoRecords(t *testing.T) {
	e := newEnv(t)
	e.createCollection("movies", 100)
	compactDelete := "compact,delete"
	if _, err := kadm.NewClient(e.prod).AlterTopicConfigs(t.Context(), []kadm.AlterConfig{{Name: "cleanup.policy", Value: &compactDelete}}, e.stTopic); err != nil {
		t.Fatal(err)
	}
	for i := range 5 {
		e.publishStatus(schemas.Status{CommandID: fmt.Sprintf("old-%d", i), Type: schemas.CommandIndexDefer, Collection: "movies",
			State: schemas.StateSucceeded, Replica: "kq-old", Time: time.Now()})
	}
	e.deleteAllStatus()
	start := time.Now()
	e.startRunner("kq-a")
	e.sendCmd(schemas.Command{ID: "defer-1", Type: schemas.CommandIndexDefer, Collection: "movies"})
	if fin := e.log.waitFinal("defer-1"); fin.State != schemas.StateSucceeded {
		t.Fatalf("defer-1: %+v", fin)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Fatalf("the runner took %s to serve its first command", d)
	}
}

// While Kafka does not acknowledge status events, index_build keeps
// polling Qdrant (progress is published asynchronously) instead of
// blocking in its first progress report.
func TestKafkaOutageDoesNotFreezeTheBuildLoop(t *testing.T) {
	e := newEnv(t)
	e.cfg.Kafka.SessionTimeout = 6 * time.Second
	e.createCollection("movies", 30000)
	a := e.startRunner("kq-a")
	e.sendCmd(schemas.Command{ID: "defer-1", Type: schemas.CommandIndexDefer, Collection: "movies"})
	e.log.waitFinal("defer-1")
	e.sendCmd(schemas.Command{ID: "build-1", Type: schemas.CommandIndexBuild, Collection: "movies"})
	e.log.waitState("build-1", schemas.StateRunning, yellow)

	a.dialer.freeze(kmsg.Produce, kmsg.EndTxn, kmsg.AddPartitionsToTxn)
	defer a.dialer.thaw()
	e.clock.Advance(time.Second) // indexing moves: the build has progress to report
	before := e.qs.CallCount("/qdrant.Collections/Get")
	deadline := time.Now().Add(3 * time.Second)
	for e.qs.CallCount("/qdrant.Collections/Get") < before+20 {
		if time.Now().After(deadline) {
			t.Fatalf("index_build polled Qdrant %d times in 3s while Kafka did not acknowledge: its loop is blocked",
				e.qs.CallCount("/qdrant.Collections/Get")-before)
		}
		e.clock.Advance(10 * time.Millisecond) // keep progress changing
		time.Sleep(10 * time.Millisecond)      // polling a call counter, bounded by the deadline
	}
}

// Finished commands older than control.status_retention are tombstoned
// when a replica takes the partition over; the newest index_defer of a
// collection stays while no index_build of it succeeded since.
func TestRetentionTombstonesOldFinishedCommands(t *testing.T) {
	e := newEnv(t)
	e.createCollection("movies", 100)
	old := time.Now().Add(-8 * 24 * time.Hour)
	recent := time.Now().Add(-time.Hour)
	for _, s := range []schemas.Status{
		{CommandID: "old-build", Type: schemas.CommandIndexBuild, Collection: "movies", State: schemas.StateSucceeded, Time: old},
		{CommandID: "old-failed", Type: schemas.CommandIndexBuild, Collection: "movies", State: schemas.StateFailed, Time: old},
		{CommandID: "old-defer-a", Type: schemas.CommandIndexDefer, Collection: "a", State: schemas.StateSucceeded, Time: old},
		{CommandID: "old-build-a", Type: schemas.CommandIndexBuild, Collection: "a", State: schemas.StateSucceeded, Time: old},
		{CommandID: "old-defer-b1", Type: schemas.CommandIndexDefer, Collection: "b", State: schemas.StateSucceeded, Time: old},
		{CommandID: "old-defer-b2", Type: schemas.CommandIndexDefer, Collection: "b", State: schemas.StateSucceeded, Time: old},
		{CommandID: "recent", Type: schemas.CommandIndexBuild, Collection: "movies", State: schemas.StateSucceeded, Time: recent},
		{CommandID: "old-running", Type: schemas.CommandIndexBuild, Collection: "movies", State: schemas.StateRunning, Time: old},
	} {
		s.Replica = "kq-old"
		e.publishStatus(s)
	}
	rn := e.startRunner("kq-a", func(c *RunnerConfig) { c.StatusRetention = 7 * 24 * time.Hour })
	want := []string{"old-build", "old-failed", "old-defer-a", "old-build-a", "old-defer-b1"}
	kept := []string{"old-defer-b2", "recent", "old-running"}
	waitTombstones(t, e, want)
	for _, id := range kept {
		if tombstoned(e, id) {
			t.Errorf("%s was tombstoned", id)
		}
	}
	if got := metricValue(t, rn.reg, "kafka_qdrant_status_tombstones_total", nil); got != float64(len(want)) {
		t.Errorf("tombstones metric = %v, want %d", got, len(want))
	}
	if _, ok := rn.r.View().Get("old-build"); ok {
		t.Error("the runner's view still holds a tombstoned command")
	}
}

// TestRetentionKeepsUncommittedCommands: a finished command whose control
// record the control group has not committed past (a long command ahead
// of it holds the commit point) keeps its final status, however old: the
// next owner reads its record again and must find it final, not run it
// again. Once the commit point passes it, it is tombstoned as usual.
func TestRetentionKeepsUncommittedCommands(t *testing.T) {
	e := newEnv(t)
	old := time.Now().Add(-8 * 24 * time.Hour)
	e.publishStatus(schemas.Status{CommandID: "old-done", Type: schemas.CommandBackup, Collection: "b",
		State: schemas.StateSucceeded, Replica: "kq-old", Time: old})
	// The long command first, then the old one's record again (a producer
	// retry, or a record the former owner never committed past).
	e.sendCmd(schemas.Command{ID: "long", Type: schemas.CommandBackup, Collection: "a"})
	e.sendCmd(schemas.Command{ID: "old-done", Type: schemas.CommandBackup, Collection: "b"})
	g := newGate()
	e.startRunner("kq-a", withGate(g), func(c *RunnerConfig) {
		c.StatusRetention = 7 * 24 * time.Hour
		c.SweepInterval = 50 * time.Millisecond
	})
	e.log.waitFor("long", "running", func(evs []schemas.Status) bool {
		return len(evs) > 0 && evs[len(evs)-1].State == schemas.StateRunning
	})
	// old-done's record is handled (its final re-published) behind the
	// running command, so it stays above the commit point.
	e.log.waitFor("old-done", "its final re-published", func(evs []schemas.Status) bool { return finals(evs) >= 2 })
	time.Sleep(500 * time.Millisecond) // ten sweeps
	if tombstoned(e, "old-done") {
		t.Fatal("old-done was tombstoned while its control record was not committed past")
	}
	if g.runs.Load() != 1 {
		t.Fatalf("the gate ran %d times, want 1 (long only)", g.runs.Load())
	}
	close(g.open)
	e.log.waitFinal("long")
	waitTombstones(t, e, []string{"old-done"})
}

// tombstoned reports whether the status topic has a tombstone for id.
func tombstoned(e *env, id string) bool {
	e.log.mu.Lock()
	defer e.log.mu.Unlock()
	return e.log.tombstones[id]
}

func waitTombstones(t *testing.T, e *env, ids []string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		missing := 0
		for _, id := range ids {
			if !tombstoned(e, id) {
				missing++
			}
		}
		if missing == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %v not tombstoned", missing, ids)
		}
		time.Sleep(20 * time.Millisecond) // polling the status log, bounded by the deadline
	}
}

// A malformed record with a huge key (and a huge type) gets a failed
// status that fits in a Kafka message, under a generated id naming the
// record; the runner goes on and commits past it.
func TestHugeMalformedRecordIsAnswered(t *testing.T) {
	e := newEnv(t)
	e.createCollection("movies", 100)
	e.startRunner("kq-a")
	huge := strings.Repeat("k", 600<<10)
	e.send(huge, ``)
	e.send("", `{"id":"big-type","type":"`+strings.Repeat("t", 600<<10)+`"}`)
	e.sendCmd(schemas.Command{ID: "after", Type: schemas.CommandIndexDefer, Collection: "movies"})
	if fin := e.log.waitFinal("after"); fin.State != schemas.StateSucceeded {
		t.Fatalf("after: %+v", fin)
	}
	if fin := e.log.waitFinal("big-type"); fin.Error == nil || fin.Error.Code != schemas.ErrUnknownType || len(fin.Type) > schemas.MaxRefLength {
		t.Fatalf("big-type: %s %+v (type %d bytes)", fin.State, fin.Error, len(fin.Type))
	}
	var inv schemas.Status
	e.log.waitFor("", "the generated-id failure", func(evs []schemas.Status) bool {
		for _, s := range evs {
			if strings.HasPrefix(s.CommandID, "kq-invalid-") && s.Record != nil && s.Record.Offset == 0 {
				inv = s
				return true
			}
		}
		return false
	})
	if inv.Error == nil || inv.Error.Code != schemas.ErrInvalidCommand || !strings.HasPrefix(inv.Record.Key, "kkkk") || len(inv.Record.Key) > schemas.MaxRefLength {
		t.Fatalf("generated-id failure %+v", inv)
	}
	e.waitCommitted(e.endOffset())
}

// A copy of a command that arrives while the command's final status is
// being published joins the command in flight, and its record may follow
// the final on the status topic: it gets the final again, as a copy of a
// finished command does (ctl --wait on the copy sees an answer). Before,
// it got none.
func TestCopyDuringFinalPublishGetsTheFinal(t *testing.T) {
	e := newEnv(t)
	e.createCollection("movies", 100)
	e.startRunner("kq-a")
	release, held := make(chan struct{}), make(chan struct{})
	e.holdProduce(`"command_id":"defer-2","type":"index_defer","collection":"movies","state":"succeeded"`, release, held)
	cmd := schemas.Command{ID: "defer-2", Type: schemas.CommandIndexDefer, Collection: "movies"}
	e.sendCmd(cmd)
	<-held
	e.sendCmd(cmd) // the copy arrives while the final is held
	time.Sleep(300 * time.Millisecond)
	close(release)
	evs := e.log.waitFor("defer-2", "a final for each copy", func(evs []schemas.Status) bool { return finals(evs) == 2 })
	if n := count(evs, schemas.StateAccepted); n != 1 {
		t.Fatalf("defer-2 was accepted %d times:\n%s", n, dump(evs))
	}
	e.waitCommitted(e.endOffset())
}

// holdProduce makes kfake hold every produce request whose records
// contain marker until release is closed.
func (e *env) holdProduce(marker string, release <-chan struct{}, held chan<- struct{}) {
	var once sync.Once
	e.kc.ControlKey(int16(kmsg.Produce), func(kreq kmsg.Request) (kmsg.Response, error, bool) {
		e.kc.KeepControl()
		req := kreq.(*kmsg.ProduceRequest)
		if !produceContains(req, marker) {
			return nil, nil, false
		}
		once.Do(func() { close(held) })
		e.kc.SleepControl(func() { <-release })
		return nil, nil, false
	})
}

// produceContains reports whether a produce request carries marker in a
// record value (batches are decompressed).
func produceContains(req *kmsg.ProduceRequest, marker string) bool {
	for _, t := range req.Topics {
		for _, p := range t.Partitions {
			var batch kmsg.RecordBatch
			if err := batch.ReadFrom(p.Records); err != nil {
				continue
			}
			fp, _ := kgo.ProcessFetchPartition(kgo.ProcessFetchPartitionOpts{KeepControlRecords: true},
				&kmsg.FetchResponseTopicPartition{RecordBatches: p.Records}, kgo.DefaultDecompressor(), nil)
			for _, r := range fp.Records {
				if bytes.Contains(r.Value, []byte(marker)) {
					return true
				}
			}
		}
	}
	return false
}

// A cancel claims a queued command; a re-sent copy of that command arrives
// while the claimed command's cancelled status is still being published.
// The copy joins the claimed command: it is not resumed, it never runs.
func TestCancelRacingWithResentTarget(t *testing.T) {
	e := newEnv(t)
	e.createCollection("movies", 3000)
	e.startRunner("kq-a")
	e.sendCmd(schemas.Command{ID: "defer-1", Type: schemas.CommandIndexDefer, Collection: "movies"})
	e.log.waitFinal("defer-1")
	e.sendCmd(schemas.Command{ID: "build-1", Type: schemas.CommandIndexBuild, Collection: "movies"})
	e.log.waitState("build-1", schemas.StateRunning, yellow)
	build2 := schemas.Command{ID: "build-2", Type: schemas.CommandIndexBuild, Collection: "movies"}
	e.sendCmd(build2)
	e.log.waitState("build-2", schemas.StateAccepted, nil)

	release, held := make(chan struct{}), make(chan struct{})
	e.holdProduce("cancelled by command cancel-2 before it started", release, held)
	e.sendCmd(schemas.Command{ID: "cancel-2", Type: schemas.CommandCancel, Target: "build-2"})
	<-held
	e.sendCmd(build2) // the copy arrives while the cancelled final is held
	time.Sleep(500 * time.Millisecond)
	close(release)

	if fin := e.log.waitFinal("cancel-2"); fin.State != schemas.StateSucceeded {
		t.Fatalf("cancel-2: %+v", fin)
	}
	e.clock.Advance(10 * time.Second)
	e.log.waitFinal("build-1")
	e.waitCommitted(e.endOffset())
	evs := e.log.events("build-2")
	if n := count(evs, schemas.StateRunning); n != 0 {
		t.Fatalf("the cancelled build-2 ran after its copy arrived:\n%s", dump(evs))
	}
	var last schemas.Status
	for _, s := range evs {
		last = s
	}
	if last.State != schemas.StateCancelled {
		t.Fatalf("build-2 ends %s, want cancelled:\n%s", last.State, dump(evs))
	}
}
