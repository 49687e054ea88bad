package connector

import (
	"fmt"
	"math/rand/v2"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// produceStream writes n upserts over ids [0, ids) to every partition in
// round robin and returns the expected final content (last value per id,
// where "last" is per partition order: an id always goes to the same
// partition, as with key partitioning).
func (e *env) produceStream(n, ids int, partitions int32, seqBase int64) map[uint64]point {
	want := make(map[uint64]point)
	const chunk = 1000
	recs := make([]*kgo.Record, 0, chunk)
	for i := range n {
		id := uint64(rand.IntN(ids))
		seq := seqBase + int64(i)
		vec := vecFor(id, seq)
		recs = append(recs, &kgo.Record{
			Topic:     e.topic,
			Partition: int32(id % uint64(partitions)),
			Key:       []byte(strconv.FormatUint(id, 10)),
			Value:     upsertValue(id, vec, seq),
		})
		want[id] = point{vec: vec, seq: seq}
		if len(recs) == chunk {
			e.produce(recs...)
			recs = recs[:0]
		}
	}
	if len(recs) > 0 {
		e.produce(recs...)
	}
	return want
}

func TestThreeMembersSixPartitionsRepeatedIDs(t *testing.T) {
	e := newEnv(t, 6)
	cfg := e.testConfig()
	for range 3 {
		e.start(cfg)
	}
	want := e.produceStream(50_000, 5_000, 6, 0)
	waitFor(t, 90*time.Second, "final content and commits", func() error {
		if err := e.contentEquals(e.topic, want); err != nil {
			return err
		}
		return e.committedEqualsEnd()
	})
	if recs := e.dlqRecords(); len(recs) != 0 {
		t.Fatalf("DLQ has %d records, want 0", len(recs))
	}
}

func TestKilledMemberLosesNothing(t *testing.T) {
	e := newEnv(t, 4)
	cfg := e.testConfig()
	a := e.start(cfg)
	want := e.produceStream(5_000, 2_000, 4, 0)
	// Kill a while it is mid-stream: abandon everything, commit nothing more.
	waitFor(t, 30*time.Second, "some progress", func() error {
		if len(e.committedOffsets()) == 0 {
			return fmt.Errorf("nothing committed yet")
		}
		return nil
	})
	a.c.Abort()
	a.stop(t)
	more := e.produceStream(5_000, 2_000, 4, 5_000)
	for id, p := range more {
		want[id] = p
	}
	e.start(cfg)
	waitFor(t, 60*time.Second, "final content and commits", func() error {
		if err := e.contentEquals(e.topic, want); err != nil {
			return err
		}
		return e.committedEqualsEnd()
	})
}

// TestQdrantUnavailable: Qdrant answers Unavailable for 10 s mid-stream.
// Ids are unique, so "committed offset o" means every record below o must
// already be a point; this is checked throughout the outage.
func TestQdrantUnavailable(t *testing.T) {
	e := newEnv(t, 4)
	cfg := e.testConfig()
	m := e.start(cfg)
	want := make(map[uint64]point)
	var mu sync.Mutex
	produceUnique := func(from, n int) {
		recs := make([]*kgo.Record, 0, n)
		for i := from; i < from+n; i++ {
			id := uint64(i)
			vec := vecFor(id, int64(i))
			recs = append(recs, &kgo.Record{Partition: int32(id % 4), Key: []byte(strconv.Itoa(i)), Value: upsertValue(id, vec, int64(i))})
			mu.Lock()
			want[id] = point{vec: vec, seq: int64(i)}
			mu.Unlock()
		}
		e.produce(recs...)
	}
	produceUnique(0, 2000)
	waitFor(t, 30*time.Second, "first records applied", func() error { return e.committedEqualsEnd() })

	e.qs.SetUnavailable(true)
	outageEnd := time.Now().Add(10 * time.Second)
	next := 2000
	for time.Now().Before(outageEnd) {
		produceUnique(next, 200)
		next += 200
		e.checkCommittedApplied(t, 4)
		time.Sleep(250 * time.Millisecond)
	}
	// Batches retrying for more than stallPauseAfter pause their partitions.
	if v := gaugeValue(t, m.reg, "kafka_qdrant_paused_partitions"); v != 4 {
		t.Errorf("paused partitions after a 10 s outage = %v, want 4", v)
	}
	if err := m.c.Ready(); err != nil {
		t.Logf("Ready during the outage: %v", err)
	}
	e.qs.SetUnavailable(false)
	waitFor(t, 60*time.Second, "everything applied after recovery", func() error {
		if err := e.contentEquals(e.topic, want); err != nil {
			return err
		}
		return e.committedEqualsEnd()
	})
	if recs := e.dlqRecords(); len(recs) != 0 {
		t.Fatalf("DLQ has %d records after an outage, want 0", len(recs))
	}
	if v := gaugeValue(t, m.reg, "kafka_qdrant_paused_partitions"); v != 0 {
		t.Fatalf("paused partitions after recovery = %v, want 0", v)
	}
	if v := gaugeValue(t, m.reg, "kafka_qdrant_retries_total"); v == 0 {
		t.Fatal("no retries counted during the outage")
	}
}

// checkCommittedApplied asserts that for every partition every record below
// the committed offset is in Qdrant (ids are offset-derived: id%parts ==
// partition, in produce order).
func (e *env) checkCommittedApplied(t *testing.T, parts int) {
	t.Helper()
	committed := e.committedOffsets()
	got, err := e.qs.Points(e.topic)
	if err != nil {
		t.Fatal(err)
	}
	perPart := make(map[int32]int64)
	for k := range got {
		id, _ := strconv.ParseUint(k[2:], 10, 64)
		perPart[int32(id%uint64(parts))]++
	}
	for p, off := range committed {
		if perPart[p] < off {
			t.Fatalf("partition %d committed at %d but only %d records applied", p, off, perPart[p])
		}
	}
}

func TestTombstonesAndMergeInOneBatch(t *testing.T) {
	e := newEnv(t, 1)
	cfg := e.testConfig()
	cfg.Batch.Linger = 500 * time.Millisecond // upsert, delete, upsert land in one batch
	e.produce(
		&kgo.Record{Key: []byte("7"), Value: upsertValue(7, vecFor(7, 1), 1)},
		&kgo.Record{Key: []byte("7"), Value: nil},
		&kgo.Record{Key: []byte("7"), Value: upsertValue(7, vecFor(7, 3), 3)},
		&kgo.Record{Key: []byte("8"), Value: upsertValue(8, vecFor(8, 4), 4)},
		&kgo.Record{Key: []byte("8"), Value: nil},
		&kgo.Record{Key: []byte("9"), Value: upsertValue(9, vecFor(9, 6), 6)},
	)
	e.start(cfg)
	want := map[uint64]point{7: {vecFor(7, 3), 3}, 9: {vecFor(9, 6), 6}}
	waitFor(t, 30*time.Second, "merged content", func() error {
		if err := e.contentEquals(e.topic, want); err != nil {
			return err
		}
		return e.committedEqualsEnd()
	})
	// A later tombstone deletes an existing point.
	e.produce(&kgo.Record{Key: []byte("9"), Value: nil})
	delete(want, 9)
	waitFor(t, 30*time.Second, "tombstone applied", func() error {
		if err := e.contentEquals(e.topic, want); err != nil {
			return err
		}
		return e.committedEqualsEnd()
	})
}

// TestRebalanceWhileInFlight: members join and leave while batches are
// being written (Qdrant adds latency); nothing is lost and no member
// commits a partition after its revoke returned.
func TestRebalanceWhileInFlight(t *testing.T) {
	e := newEnv(t, 6)
	cfg := e.testConfig()
	e.qs.SetLatency("/qdrant.Points/UpdateBatch", 20*time.Millisecond)

	var violations atomic.Int64
	watch := func() testHooks {
		var mu sync.Mutex
		revoked := map[tp]bool{}
		var h testHooks
		h.afterRevoke = func(keys []tp) {
			mu.Lock()
			defer mu.Unlock()
			for _, k := range keys {
				revoked[k] = true
			}
		}
		h.afterAssign = func(keys []tp) {
			mu.Lock()
			defer mu.Unlock()
			for _, k := range keys {
				delete(revoked, k)
			}
		}
		h.beforeCommit = func(offs map[string]map[int32]kgo.EpochOffset) {
			mu.Lock()
			defer mu.Unlock()
			for topic, ps := range offs {
				for p := range ps {
					if revoked[tp{topic, p}] {
						violations.Add(1)
						t.Errorf("commit for %s/%d after its revoke returned", topic, p)
					}
				}
			}
		}
		return h
	}
	a := e.startHooked(cfg, watch())
	b := e.startHooked(cfg, watch())
	want := e.produceStream(10_000, 3_000, 6, 0)
	c := e.startHooked(cfg, watch()) // joins mid-stream
	more := e.produceStream(10_000, 3_000, 6, 10_000)
	a.stop(t) // leaves mid-stream
	for id, p := range more {
		want[id] = p
	}
	more = e.produceStream(5_000, 3_000, 6, 20_000)
	for id, p := range more {
		want[id] = p
	}
	waitFor(t, 90*time.Second, "final content and commits", func() error {
		if err := e.contentEquals(e.topic, want); err != nil {
			return err
		}
		return e.committedEqualsEnd()
	})
	_, _ = b, c
	if v := violations.Load(); v != 0 {
		t.Fatalf("%d commits after revoke", v)
	}
}

func (e *env) startHooked(cfg Config, hooks testHooks) *member {
	m := e.startWithHooks(cfg, hooks)
	m.go_()
	return m
}

// TestBackpressureBoundsMemory: with a small batch.max_inflight_bytes and a
// slow Qdrant, polling waits (kafka_qdrant_fetch_blocked), the bytes held
// stay within the bound plus one fetch, and nothing is lost.
func TestBackpressureBoundsMemory(t *testing.T) {
	e := newEnv(t, 2)
	cfg := e.testConfig()
	cfg.Batch.MaxInflightBytes = 64 << 10 // a few batches
	cfg.Kafka.FetchMaxBytes = 64 << 10
	e.qs.SetLatency("/qdrant.Points/UpdateBatch", 30*time.Millisecond)
	m := e.start(cfg)
	want := e.produceStream(6_000, 6_000, 2, 0)
	sawBlocked := false
	// One poll past the bound: a fetch returns at least one whole record
	// batch per partition.
	bound := float64(cfg.Batch.MaxInflightBytes) + float64(cfg.Kafka.FetchMaxBytes) + 2*producerBatchMax
	waitFor(t, 60*time.Second, "final content", func() error {
		if gaugeValue(t, m.reg, "kafka_qdrant_fetch_blocked") > 0 {
			sawBlocked = true
		}
		if v := gaugeValue(t, m.reg, "kafka_qdrant_inflight_bytes"); v > bound {
			t.Fatalf("inflight %v bytes, above the bound %v", v, bound)
		}
		if err := e.contentEquals(e.topic, want); err != nil {
			return err
		}
		return e.committedEqualsEnd()
	})
	if !sawBlocked {
		t.Fatal("polling never waited although batch.max_inflight_bytes was reached")
	}
	if v := gaugeValue(t, m.reg, "kafka_qdrant_paused_partitions"); v != 0 {
		t.Fatalf("%v partitions paused by normal backpressure; pausing is for stuck partitions only", v)
	}
}

// TestLostPartitionsCommitNothing: after OnPartitionsLost the marks of the
// lost partitions are dropped: neither a later periodic commit nor the
// final revoke commits them (another member may own them already).
func TestLostPartitionsCommitNothing(t *testing.T) {
	e := newEnv(t, 2)
	cfg := e.testConfig()
	cfg.Kafka.CommitInterval = time.Hour // only the revoke would commit
	m := e.start(cfg)
	want := e.produceStream(200, 200, 2, 0)
	waitFor(t, 30*time.Second, "records applied (and marked)", func() error { return e.contentEquals(e.topic, want) })
	waitFor(t, 10*time.Second, "marks pending", func() error {
		if len(m.c.gm.Pending()) == 0 {
			return errorf("no marks yet")
		}
		return nil
	})
	m.c.gm.Lose(map[string][]int32{e.topic: {0, 1}})
	if n := len(m.c.gm.Pending()); n != 0 {
		t.Fatalf("%d topics with marks after loss, want none", n)
	}
	m.stop(t) // graceful: the final revoke must not commit the lost partitions
	if c := e.committedOffsets(); len(c) != 0 {
		t.Fatalf("committed %v for lost partitions, want nothing", c)
	}
}
