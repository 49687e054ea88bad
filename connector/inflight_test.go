package connector

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/seed-a550a1ef/kafka-qdrant/internal/qdrantmem"
	"github.com/seed-a550a1ef/kafka-qdrant/schemas"
	"github.com/seed-a550a1ef/kafka-qdrant/sink"
)

// applied is what the Qdrant writers of a test's members applied, per
// partition and offset, shared by every member: the witness against which
// each commit is checked.
type applied struct {
	mu   sync.Mutex
	offs map[int32]map[int64]bool
	// upTo[p]: every offset below it is known applied (or skipped).
	upTo map[int32]int64
	// skip are offsets that are never applied, yet may be committed over
	// (dead-lettered records).
	skip map[int32]map[int64]bool
	// violation is the first commit of an offset not applied.
	violation string
}

func newApplied() *applied {
	return &applied{offs: map[int32]map[int64]bool{}, upTo: map[int32]int64{}, skip: map[int32]map[int64]bool{}}
}

func (a *applied) add(ops []sink.Op, rejected []sink.Rejected) {
	a.mu.Lock()
	defer a.mu.Unlock()
	bad := map[int]bool{}
	for _, r := range rejected {
		bad[r.Op.Ref] = true
	}
	for _, op := range ops {
		if bad[op.Ref] {
			continue
		}
		if a.offs[op.Partition] == nil {
			a.offs[op.Partition] = map[int64]bool{}
		}
		a.offs[op.Partition][op.Offset] = true
	}
}

// check is a beforeCommit hook: every offset below each committed offset
// must have been applied (offsets are dense: the tests produce no
// transactions).
func (a *applied) check(offs map[string]map[int32]kgo.EpochOffset) {
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, ps := range offs {
		for p, eo := range ps {
			for o := a.upTo[p]; o < eo.Offset; o++ {
				if !a.offs[p][o] && !a.skip[p][o] {
					if a.violation == "" {
						a.violation = fmt.Sprintf("partition %d committed at %d but offset %d was not applied", p, eo.Offset, o)
					}
					return
				}
				a.upTo[p] = o + 1
			}
		}
	}
}

func (a *applied) has(p int32, o int64) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.offs[p][o]
}

func (a *applied) err() error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.violation != "" {
		return fmt.Errorf("%s", a.violation)
	}
	return nil
}

// flightSink watches the writes of one member: it fails when two writes of
// one partition in flight at once hold the same point id (in any
// collection), or when a write of a revoked or lost partition is in flight
// after the revoke or the loss returned; it counts the writes in flight and
// their peak, and records what was applied. delay, when set, holds a write
// before it is passed on (latency, racing).
type flightSink struct {
	Sink
	applied *applied
	delay   func(ops []sink.Op) time.Duration

	mu       sync.Mutex
	ids      map[int32]map[schemas.IDKey]int // ids of the writes in flight
	writing  map[int32]int                   // writes in flight
	peak     int
	gone     map[int32]bool // revoked or lost partitions
	problems []string
}

func newFlightSink(a *applied, delay func([]sink.Op) time.Duration) *flightSink {
	return &flightSink{applied: a, delay: delay, ids: map[int32]map[schemas.IDKey]int{},
		writing: map[int32]int{}, gone: map[int32]bool{}}
}

func (s *flightSink) Write(ctx context.Context, coll string, ops []sink.Op) ([]sink.Rejected, error) {
	if len(ops) == 0 {
		return s.Sink.Write(ctx, coll, ops)
	}
	p := ops[0].Partition
	s.mu.Lock()
	if s.gone[p] {
		s.problems = append(s.problems, fmt.Sprintf("a write of partition %d after its revoke or loss", p))
	}
	if s.ids[p] == nil {
		s.ids[p] = map[schemas.IDKey]int{}
	}
	seen := map[schemas.IDKey]bool{}
	for _, op := range ops {
		k := schemas.IDKeyOf(op.Record.ID)
		if seen[k] {
			continue // one write may hold an id several times (merged)
		}
		seen[k] = true
		if s.ids[p][k] > 0 {
			s.problems = append(s.problems, fmt.Sprintf("partition %d: two writes in flight hold point %v (offset %d)", p, k, op.Offset))
		}
		s.ids[p][k]++
	}
	s.writing[p]++
	s.peak = max(s.peak, s.writing[p])
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		for k := range seen {
			if s.ids[p][k]--; s.ids[p][k] == 0 {
				delete(s.ids[p], k)
			}
		}
		s.writing[p]--
		s.mu.Unlock()
	}()
	if s.delay != nil {
		if d := s.delay(ops); d > 0 {
			select {
			case <-time.After(d):
			case <-ctx.Done():
				return nil, ctx.Err()
			}
		}
	}
	rej, err := s.Sink.Write(ctx, coll, ops)
	if err == nil && s.applied != nil {
		s.applied.add(ops, rej)
	}
	return rej, err
}

// released is an afterRevoke hook (and called after a loss): the partitions
// must have no write in flight, and none may start.
func (s *flightSink) released(keys []tp) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, k := range keys {
		if s.writing[k.partition] > 0 {
			s.problems = append(s.problems, fmt.Sprintf("partition %d: %d writes in flight after its revoke or loss returned", k.partition, s.writing[k.partition]))
		}
		s.gone[k.partition] = true
	}
}

func (s *flightSink) err() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.problems) > 0 {
		return fmt.Errorf("%d problems, first: %s", len(s.problems), s.problems[0])
	}
	return nil
}

func (s *flightSink) peakWrites() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.peak
}

func (s *flightSink) inFlight() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, w := range s.writing {
		n += w
	}
	return n
}

// randomDelay holds writes 0 to max, so that later writes overtake earlier
// ones when nothing orders them.
func randomDelay(max time.Duration) func([]sink.Op) time.Duration {
	return func([]sink.Op) time.Duration { return rand.N(max) }
}

func deleteRecordValue(id uint64, coll string) []byte {
	v := map[string]any{"id": id, "delete": true}
	if coll != "" {
		v["collection_name"] = coll
	}
	b, _ := json.Marshal(v)
	return b
}

// TestInflightPerIDOrder: one partition, four batches in flight, small
// batches over ids that repeat across neighbouring batches, with upserts,
// tombstones, delete records and records routed to a second collection;
// Qdrant answers after 5 ms and every write is held a random 0-10 ms more,
// so that a later batch overtakes an earlier one whenever nothing orders
// them. Two writes in flight never hold the same point id, the final
// content is the last write of every id, several writes were in flight at
// once, and no commit ever covers an offset not applied.
func TestInflightPerIDOrder(t *testing.T) {
	e := newEnv(t, 1)
	e.createCollection("side", testDim)
	e.qs.SetLatency(qdrantmem.MethodUpdateBatch, 5*time.Millisecond)
	a := newApplied()
	fs := newFlightSink(a, randomDelay(10*time.Millisecond))
	e.wrapSink = func(s Sink) Sink { fs.Sink = s; return fs }
	cfg := e.testConfig()
	cfg.Batch.MaxRecords = 20
	cfg.Batch.MaxInflightPerPartition = 4
	cfg.Kafka.DLQTopic = ""

	const n, ids = 4000, 600
	want := map[string]map[uint64]point{e.topic: {}, "side": {}}
	rng := rand.New(rand.NewPCG(7, 8))
	recs := make([]*kgo.Record, 0, n)
	for i := range n {
		id := uint64(rng.IntN(ids))
		key := []byte(strconv.FormatUint(id, 10))
		coll := e.topic
		if id%5 == 0 {
			coll = "side"
		}
		var value []byte
		switch r := rng.IntN(20); {
		case r == 0 && coll == e.topic: // a tombstone deletes from the topic's route
			delete(want[coll], id)
		case r == 1:
			override := ""
			if coll == "side" {
				override = "side"
			}
			value = deleteRecordValue(id, override)
			delete(want[coll], id)
		default:
			seq := int64(i)
			if coll == "side" {
				value = routedUpsert(id, seq, "side")
			} else {
				value = upsertValue(id, vecFor(id, seq), seq)
			}
			want[coll][id] = point{vec: vecFor(id, seq), seq: seq}
		}
		recs = append(recs, &kgo.Record{Key: key, Value: value})
	}
	e.produce(recs...)
	e.startWithHooks(cfg, testHooks{beforeCommit: a.check}).go_()
	awaitApplied(t, e, 60*time.Second, a, want, fs)
	fs.requireOverlap(t)
}

// TestInflightCommitsOnlyApplied: four partitions, four batches in flight
// each, writes held a random 0-20 ms (later batches finish first) and
// Qdrant unavailable for a while mid-stream: no commit ever covers an
// offset not applied, and everything ends applied and committed.
func TestInflightCommitsOnlyApplied(t *testing.T) {
	e := newEnv(t, 4)
	a := newApplied()
	fs := newFlightSink(a, randomDelay(20*time.Millisecond))
	e.wrapSink = func(s Sink) Sink { fs.Sink = s; return fs }
	cfg := e.testConfig()
	cfg.Batch.MaxRecords = 25
	cfg.Batch.MaxInflightPerPartition = 4
	e.startWithHooks(cfg, testHooks{beforeCommit: a.check}).go_()
	want := map[uint64]point{}
	for round := range 6 {
		e.producePadded(int32(round%4), uint64(round*1000), 1000, "", want)
		if round == 3 {
			e.qs.SetUnavailable(true)
			time.Sleep(time.Second)
			e.qs.SetUnavailable(false)
		}
	}
	awaitApplied(t, e, 60*time.Second, a, map[string]map[uint64]point{e.topic: want}, fs)
	fs.requireOverlap(t)
}

// TestInflightRevoke: a member writing four slow batches per partition at
// once loses half its partitions to a joining member. Its revoke waits for
// every batch in flight of them (none is in flight once it returned, and
// none starts after), commits only what was applied, and nothing is lost.
func TestInflightRevoke(t *testing.T) {
	e := newEnv(t, 4)
	a := newApplied()
	first := e.slowThenFast(a, 40*time.Millisecond)
	cfg := e.testConfig()
	cfg.Batch.MaxRecords = 20
	cfg.Batch.MaxInflightPerPartition = 4
	want := map[uint64]point{}
	for p := range int32(4) {
		e.producePadded(p, uint64(p)*10_000, 1500, "", want)
	}
	e.startWithHooks(cfg, testHooks{beforeCommit: a.check, afterRevoke: first.released}).go_()
	first.awaitInFlight(t, 4)
	e.startWithHooks(cfg, testHooks{beforeCommit: a.check}).go_()
	awaitApplied(t, e, 90*time.Second, a, map[string]map[uint64]point{e.topic: want}, first)
	first.mu.Lock()
	revoked := len(first.gone)
	first.mu.Unlock()
	if revoked == 0 {
		t.Fatal("the first member was never revoked a partition")
	}
	first.requireOverlap(t)
}

// TestInflightLoss: a member with several slow batches in flight per
// partition loses its partitions: the loss cancels every batch in flight
// (none is in flight once it returned, none starts after) and commits
// nothing; a member reading them again applies everything.
func TestInflightLoss(t *testing.T) {
	e := newEnv(t, 2)
	a := newApplied()
	first := e.slowThenFast(a, 200*time.Millisecond)
	cfg := e.testConfig()
	cfg.Batch.MaxRecords = 20
	cfg.Batch.MaxInflightPerPartition = 4
	want := map[uint64]point{}
	for p := range int32(2) {
		e.producePadded(p, uint64(p)*10_000, 500, "", want)
	}
	var lostMu sync.Mutex
	lost := false
	var afterLoss []string
	m := e.startWithHooks(cfg, testHooks{beforeCommit: func(offs map[string]map[int32]kgo.EpochOffset) {
		a.check(offs)
		lostMu.Lock()
		defer lostMu.Unlock()
		if lost && len(offs[e.topic]) > 0 {
			afterLoss = append(afterLoss, fmt.Sprint(offs))
		}
	}})
	m.go_()
	first.awaitInFlight(t, 4)
	owned := m.c.gm.Owned()
	m.c.gm.Lose(owned)
	lostMu.Lock()
	lost = true
	lostMu.Unlock()
	var keys []tp
	for topic, ps := range owned {
		for _, p := range ps {
			keys = append(keys, tp{topic, p})
		}
	}
	first.released(keys)
	m.stop(t)
	lostMu.Lock()
	if len(afterLoss) > 0 {
		t.Fatalf("committed after the loss: %v", afterLoss)
	}
	lostMu.Unlock()
	e.startWithHooks(cfg, testHooks{beforeCommit: a.check}).go_()
	awaitApplied(t, e, 60*time.Second, a, map[string]map[uint64]point{e.topic: want}, first)
}

// TestInflightBadRecordWithoutDLQ: without a DLQ, a bad record at offset
// 100 stops its partition while later batches are in flight: the batch
// holding it is slow, so later batches are applied first. The partition
// is committed exactly up to the bad record (never past it), although
// records after it were applied.
func TestInflightBadRecordWithoutDLQ(t *testing.T) {
	e := newEnv(t, 1)
	a := newApplied()
	fs := newFlightSink(a, func(ops []sink.Op) time.Duration {
		for _, op := range ops {
			if op.Offset > 100 && op.Offset < 110 {
				return 500 * time.Millisecond // the batch after the bad record's start
			}
		}
		return 0
	})
	e.wrapSink = func(s Sink) Sink { fs.Sink = s; return fs }
	cfg := e.testConfig()
	cfg.Kafka.DLQTopic = ""
	cfg.Batch.MaxRecords = 10
	cfg.Batch.MaxInflightPerPartition = 4
	e.producePadded(0, 0, 100, "", nil)
	e.produce(&kgo.Record{Key: []byte("bad"), Value: []byte(`{"id": 100, "vector": "not a vector"}`)})
	e.producePadded(0, 101, 200, "", nil)
	m := e.startWithHooks(cfg, testHooks{beforeCommit: a.check})
	m.go_()
	waitFor(t, 30*time.Second, "the partition stopped and committed up to the bad record", func() error {
		if gaugeValue(t, m.reg, "kafka_qdrant_partitions_stopped") != 1 {
			return errorf("partitions_stopped gauge not 1")
		}
		if c := e.committedOffsets()[0]; c != 100 {
			return errorf("committed %d, want 100", c)
		}
		return nil
	})
	later := 0
	for o := int64(110); o < 301; o++ {
		if a.has(0, o) {
			later++
		}
	}
	if later == 0 {
		t.Fatal("no record after the bad record's batch was applied: the test needs batches in flight past it")
	}
	time.Sleep(500 * time.Millisecond) // commits go on; none may pass the bad record
	if c := e.committedOffsets()[0]; c != 100 {
		t.Fatalf("committed %d after the stop, want 100", c)
	}
	if err := m.c.Ready(); err == nil {
		t.Fatal("Ready reports no error with a stopped partition")
	}
	if err := a.err(); err != nil {
		t.Fatal(err)
	}
	if err := fs.err(); err != nil {
		t.Fatal(err)
	}
}

// TestInflightDataPause: a data pause while four slow batches per
// partition are in flight: the pause is acknowledged only once every one
// of them ended, so that nothing is written after the acknowledgement and
// the acknowledged offsets are everything applied.
func TestInflightDataPause(t *testing.T) {
	const parts = 2
	e := newEnv(t, parts)
	src := &fakePauses{}
	a := newApplied()
	fs := newFlightSink(a, func([]sink.Op) time.Duration { return 100 * time.Millisecond })
	e.wrapSink = func(s Sink) Sink { fs.Sink = s; return fs }
	cfg := e.testConfig()
	cfg.Pauses = src
	cfg.Batch.MaxRecords = 20
	cfg.Batch.MaxInflightPerPartition = 4
	want := map[uint64]point{}
	for p := range int32(parts) {
		e.producePadded(p, uint64(p)*10_000, 2000, "", want)
	}
	e.startWithHooks(cfg, testHooks{beforeCommit: a.check}).go_()
	waitFor(t, 20*time.Second, "several writes in flight", func() error {
		if fs.inFlight() < 2*parts {
			return errorf("%d writes in flight", fs.inFlight())
		}
		return nil
	})
	src.set(schemas.DataPause{ID: "p1", Collection: e.topic, Topics: []string{e.topic}, Until: time.Now().Add(time.Minute)})
	waitFor(t, 20*time.Second, "every partition to acknowledge the pause", func() error { return e.acknowledging("p1") })
	if n := fs.inFlight(); n != 0 {
		t.Fatalf("%d writes in flight after the pause was acknowledged", n)
	}
	acked := e.committedOffsets()
	for p, o := range acked {
		for off := range o {
			if !a.has(p, off) {
				t.Fatalf("partition %d acknowledged at %d, offset %d not applied", p, o, off)
			}
		}
		if a.has(p, o) {
			t.Fatalf("partition %d acknowledged at %d, but offset %d was applied too", p, o, o)
		}
	}
	time.Sleep(300 * time.Millisecond)
	for p, o := range acked {
		if a.has(p, o) {
			t.Fatalf("partition %d: offset %d written after the pause was acknowledged", p, o)
		}
	}
	src.set()
	waitFor(t, 60*time.Second, "everything applied and committed after the lift", func() error {
		if err := a.err(); err != nil {
			t.Fatal(err)
		}
		if err := e.contentEquals(e.topic, want); err != nil {
			return err
		}
		return e.committedEqualsEnd()
	})
	if err := fs.err(); err != nil {
		t.Fatal(err)
	}
}

// awaitApplied waits until every collection holds the points of want and
// every offset is committed, failing at once when a commit covered an
// offset not applied (a) or a write broke the rules the sinks check.
func awaitApplied(t *testing.T, e *env, d time.Duration, a *applied, want map[string]map[uint64]point, sinks ...*flightSink) {
	t.Helper()
	waitFor(t, d, "final content and commits", func() error {
		if err := a.err(); err != nil {
			t.Fatal(err)
		}
		for _, fs := range sinks {
			if err := fs.err(); err != nil {
				t.Fatal(err)
			}
		}
		for coll, w := range want {
			if err := e.contentEquals(coll, w); err != nil {
				return err
			}
		}
		return e.committedEqualsEnd()
	})
}

// requireOverlap fails a test whose writes never overlapped: it proved
// nothing about batches in flight at once.
func (f *flightSink) requireOverlap(t *testing.T) {
	t.Helper()
	if p := f.peakWrites(); p < 2 {
		t.Fatalf("at most %d write in flight at once per partition; the test needs several", p)
	}
}

// slowThenFast makes every write of the first member started take delay
// and those of the second none; it returns the first member's sink.
func (e *env) slowThenFast(a *applied, delay time.Duration) *flightSink {
	first := newFlightSink(a, func([]sink.Op) time.Duration { return delay })
	sinks := []*flightSink{first, newFlightSink(a, nil)}
	e.wrapSink = func(s Sink) Sink { fs := sinks[0]; sinks = sinks[1:]; fs.Sink = s; return fs }
	return first
}

// awaitInFlight waits until n writes are in flight at once.
func (f *flightSink) awaitInFlight(t *testing.T, n int) {
	t.Helper()
	waitFor(t, 20*time.Second, "several writes in flight", func() error {
		if got := f.inFlight(); got < n {
			return errorf("%d writes in flight", got)
		}
		return nil
	})
}
