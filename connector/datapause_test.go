package connector

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/seed-a550a1ef/kafka-qdrant/schemas"
	"github.com/seed-a550a1ef/kafka-qdrant/sink"
)

// fakePauses is a PauseSource the test sets.
type fakePauses struct {
	mu     sync.Mutex
	pauses []schemas.DataPause
	syncs  atomic.Int64
}

func (f *fakePauses) set(ps ...schemas.DataPause) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.pauses = ps
}

func (f *fakePauses) DataPauses(time.Time) []schemas.DataPause {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]schemas.DataPause(nil), f.pauses...)
}

func (f *fakePauses) SyncStatus(context.Context) error {
	f.syncs.Add(1)
	return nil
}

// countingSink counts the ops written.
type countingSink struct {
	Sink
	ops atomic.Int64
}

func (s *countingSink) Write(ctx context.Context, coll string, ops []sink.Op) ([]sink.Rejected, error) {
	rej, err := s.Sink.Write(ctx, coll, ops)
	if err == nil {
		s.ops.Add(int64(len(ops)))
	}
	return rej, err
}

// acknowledging reports an error unless every partition's committed offset
// carries commit metadata acknowledging pause id.
func (e *env) acknowledging(id string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	resp, err := e.adm.FetchOffsetsForTopics(ctx, e.group, e.topic)
	if err != nil {
		return err
	}
	var bad []string
	resp.Each(func(o kadm.OffsetResponse) {
		if o.Topic == e.topic && !schemas.PauseAcknowledged(o.Metadata, id) {
			bad = append(bad, fmt.Sprintf("%d (at %d, metadata %q)", o.Partition, o.At, o.Metadata))
		}
	})
	if len(bad) > 0 {
		return fmt.Errorf("partitions not acknowledging %s: %s", id, strings.Join(bad, ", "))
	}
	return nil
}

func (e *env) produceSeq(partitions int32, perPartition int, seq int64, want map[uint64]point) {
	e.t.Helper()
	var recs []*kgo.Record
	for p := range partitions {
		for i := range perPartition {
			id := uint64(int(p)*1000 + i)
			want[id] = point{vec: vecFor(id, seq), seq: seq}
			recs = append(recs, &kgo.Record{Partition: p, Key: []byte(fmt.Sprint(id)), Value: upsertValue(id, vecFor(id, seq), seq)})
		}
	}
	e.produce(recs...)
}

// TestDataPause: a data pause holds every partition of its topics on every
// member — including partitions that move to a member joining during the
// pause — each member finishes what it is writing and commits its applied
// offsets with metadata naming the pause, and nothing more is applied until
// the pause is lifted; then everything is.
func TestDataPause(t *testing.T) {
	const parts = 4
	e := newEnv(t, parts)
	src := &fakePauses{}
	var writes []*countingSink
	var wmu sync.Mutex
	e.wrapSink = func(s Sink) Sink {
		c := &countingSink{Sink: s}
		wmu.Lock()
		writes = append(writes, c)
		wmu.Unlock()
		return c
	}
	written := func() int64 {
		wmu.Lock()
		defer wmu.Unlock()
		var n int64
		for _, c := range writes {
			n += c.ops.Load()
		}
		return n
	}
	cfg := e.testConfig()
	cfg.Pauses = src
	a := e.start(cfg)
	want := map[uint64]point{}
	e.produceSeq(parts, 20, 1, want)
	waitFor(t, 10*time.Second, "the first records committed", e.committedEqualsEnd)
	if src.syncs.Load() == 0 {
		t.Fatal("partitions were processed without the status view being synced first")
	}

	pause := schemas.DataPause{ID: "p1", Collection: e.topic, Topics: []string{e.topic}, Until: time.Now().Add(time.Minute)}
	src.set(pause)
	waitFor(t, 10*time.Second, "every partition to acknowledge the pause", func() error { return e.acknowledging("p1") })
	before, atPause := written(), e.committedOffsets()

	// Records arrive and a member joins during the pause: partitions move
	// to it, and it holds them too.
	e.produceSeq(parts, 20, 2, want)
	b := e.start(cfg)
	waitFor(t, 15*time.Second, "the joining member to hold its partitions and acknowledge", func() error {
		b.c.mu.Lock()
		n := len(b.c.parts)
		b.c.mu.Unlock()
		if n == 0 {
			return fmt.Errorf("no partition assigned to the new member yet")
		}
		b.c.pauses.mu.Lock()
		acked := len(b.c.pauses.acked)
		b.c.pauses.mu.Unlock()
		if acked != n {
			return fmt.Errorf("%d of its %d partitions acknowledged", acked, n)
		}
		return e.acknowledging("p1")
	})
	if got := written(); got != before {
		t.Fatalf("%d records written during the pause", got-before)
	}
	if got := e.committedOffsets(); fmt.Sprint(got) != fmt.Sprint(atPause) {
		t.Fatalf("committed offsets moved during the pause: %v, then %v", atPause, got)
	}

	src.set()
	waitFor(t, 10*time.Second, "everything committed after the lift", e.committedEqualsEnd)
	waitFor(t, 10*time.Second, "the content", func() error { return e.contentEquals(e.topic, want) })
	a.stop(t)
	b.stop(t)
}

// TestDataPauseLapses: a pause whose lease passed releases the partitions
// even when nobody lifts it (a restore that died).
func TestDataPauseLapses(t *testing.T) {
	e := newEnv(t, 2)
	src := &fakePauses{}
	cfg := e.testConfig()
	cfg.Pauses = src
	e.start(cfg)
	src.set(schemas.DataPause{ID: "p1", Collection: e.topic, Topics: []string{e.topic}, Until: time.Now().Add(3 * time.Second)})
	want := map[uint64]point{}
	e.produceSeq(2, 10, 1, want)
	waitFor(t, 10*time.Second, "every partition to acknowledge the pause", func() error { return e.acknowledging("p1") })
	waitFor(t, 10*time.Second, "everything committed once the pause lapsed", e.committedEqualsEnd)
	waitFor(t, 10*time.Second, "the content", func() error { return e.contentEquals(e.topic, want) })
}

// TestDataPauseKeepsLagAndReadiness: while a data pause holds a topic, its
// partitions are not fetched, yet their lag gauge follows what is produced
// to them, and a pause longer than StallTimeout is not a stall even with
// records queued behind it (/readyz stays ready: the replica is doing what
// it was asked).
func TestDataPauseKeepsLagAndReadiness(t *testing.T) {
	e := newEnv(t, 2)
	src := &fakePauses{}
	cfg := e.testConfig()
	cfg.Pauses = src
	cfg.StallTimeout = 300 * time.Millisecond
	// Full batches go at once; a partial one waits a minute, so records
	// can sit queued when the pause comes.
	cfg.Batch.MaxRecords = 10
	cfg.Batch.Linger = time.Minute
	m := e.start(cfg)
	want := map[uint64]point{}
	e.produceSeq(2, 10, 1, want)
	waitFor(t, 10*time.Second, "the first records committed", e.committedEqualsEnd)
	e.produceSeq(2, 5, 2, want)
	waitFor(t, 10*time.Second, "5 records queued on each partition", func() error {
		m.c.mu.Lock()
		defer m.c.mu.Unlock()
		for _, p := range m.c.parts {
			p.mu.Lock()
			n := len(p.queue)
			p.mu.Unlock()
			if n != 5 {
				return errorf("partition %s queues %d records", p.key, n)
			}
		}
		return nil
	})

	src.set(schemas.DataPause{ID: "p1", Collection: e.topic, Topics: []string{e.topic}, Until: time.Now().Add(time.Minute)})
	waitFor(t, 10*time.Second, "every partition to acknowledge the pause", func() error { return e.acknowledging("p1") })
	e.produceSeq(2, 25, 3, want)
	waitFor(t, 10*time.Second, "the lag of the held partitions to follow", func() error {
		for p := range int32(2) {
			if l := lagOf(t, m.reg, e.topic, p); l != 30 {
				return errorf("lag of partition %d = %v, want 30", p, l)
			}
		}
		return nil
	})
	time.Sleep(3 * cfg.StallTimeout)
	if err := m.c.Ready(); err != nil {
		t.Fatalf("Ready during a data pause: %v", err)
	}

	src.set()
	waitFor(t, 10*time.Second, "everything committed after the lift", e.committedEqualsEnd)
	waitFor(t, 10*time.Second, "the lag back to 0", func() error {
		for p := range int32(2) {
			if l := lagOf(t, m.reg, e.topic, p); l != 0 {
				return errorf("lag of partition %d = %v, want 0", p, l)
			}
		}
		return nil
	})
	waitFor(t, 10*time.Second, "the content", func() error { return e.contentEquals(e.topic, want) })
}
