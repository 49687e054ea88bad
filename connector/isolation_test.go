package connector

import (
	"context"
	"encoding/json"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/seed-a550a1ef/kafka-qdrant/sink"
)

// paddedValue is an upsert of id with payload seq and 200 bytes of padding,
// routed to coll when coll is not empty.
func paddedValue(id uint64, seq int64, coll string) []byte {
	v := map[string]any{"id": id, "vector": vecFor(id, seq), "payload": map[string]any{"seq": seq, "pad": strings.Repeat("x", 200)}}
	if coll != "" {
		v["collection_name"] = coll
	}
	b, _ := json.Marshal(v)
	return b
}

// producePadded writes n padded upserts of ids from, from+1, … to one
// partition and adds them to want.
func (e *env) producePadded(partition int32, from uint64, n int, coll string, want map[uint64]point) {
	e.t.Helper()
	recs := make([]*kgo.Record, 0, n)
	for i := range n {
		id := from + uint64(i)
		recs = append(recs, &kgo.Record{Partition: partition, Key: []byte(strconv.FormatUint(id, 10)), Value: paddedValue(id, int64(id), coll)})
		if want != nil {
			want[id] = point{vec: vecFor(id, int64(id)), seq: int64(id)}
		}
	}
	e.produce(recs...)
}

// smallBound makes batch.max_inflight_bytes a few batches, far below one
// partition's backlog.
func smallBound(cfg *Config) {
	cfg.Batch.MaxRecords = 20
	cfg.Batch.MaxBytes = 8 << 10
	cfg.Batch.MaxInflightBytes = 32 << 10
}

// lagOf reads kafka_qdrant_consumer_lag of one partition (-1 if absent).
func lagOf(t *testing.T, g prometheus.Gatherer, topic string, partition int32) float64 {
	t.Helper()
	mfs, err := g.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != "kafka_qdrant_consumer_lag" {
			continue
		}
		for _, m := range mf.GetMetric() {
			labels := map[string]string{}
			for _, l := range m.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			if labels["topic"] == topic && labels["partition"] == strconv.Itoa(int(partition)) {
				return m.GetGauge().GetValue()
			}
		}
	}
	return -1
}

// TestStoppedPartitionDoesNotBlockOthers: without a DLQ, partition 0 stops
// on a bad record with a backlog far larger than batch.max_inflight_bytes
// behind it. Partition 1 must keep being applied and committed, and the
// stopped partition's lag gauge must follow what is produced to it.
func TestStoppedPartitionDoesNotBlockOthers(t *testing.T) {
	e := newEnv(t, 2)
	cfg := e.testConfig()
	cfg.Kafka.DLQTopic = ""
	smallBound(&cfg)
	e.produce(&kgo.Record{Partition: 0, Key: []byte("0"), Value: []byte(`not json`)})
	e.producePadded(0, 1, 1000, "", nil) // ~300 KB behind the bad record
	m := e.start(cfg)
	waitFor(t, 30*time.Second, "partition 0 stopped", func() error {
		if gaugeValue(t, m.reg, "kafka_qdrant_partitions_stopped") != 1 {
			return errorf("partitions_stopped gauge not 1")
		}
		return nil
	})
	waitFor(t, 10*time.Second, "lag of the stopped partition = its backlog", func() error {
		if l := lagOf(t, m.reg, e.topic, 0); l != 1001 {
			return errorf("lag of partition 0 = %v, want 1001", l)
		}
		return nil
	})

	want := map[uint64]point{}
	e.producePadded(1, 10_000, 1000, "", want) // ~300 KB for the healthy partition
	waitFor(t, 30*time.Second, "partition 1 applied and committed", func() error {
		if c := e.committedOffsets(); c[1] != 1000 {
			return errorf("committed %v, want partition 1 at 1000", c)
		}
		return nil
	})
	got, err := e.qs.Points(e.topic)
	if err != nil {
		t.Fatal(err)
	}
	for id := range want {
		if _, ok := got["n:"+strconv.FormatUint(id, 10)]; !ok {
			t.Fatalf("point %d of partition 1 missing", id)
		}
	}
	if c := e.committedOffsets(); c[0] != 0 {
		t.Fatalf("stopped partition 0 committed %d, want 0 (its bad record is never skipped)", c[0])
	}
	// The lag of the stopped partition keeps moving.
	e.producePadded(0, 2000, 30, "", nil)
	waitFor(t, 10*time.Second, "lag of the stopped partition to grow", func() error {
		if l := lagOf(t, m.reg, e.topic, 0); l != 1031 {
			return errorf("lag of partition 0 = %v, want 1031", l)
		}
		return nil
	})
	if v := gaugeValue(t, m.reg, "kafka_qdrant_inflight_bytes"); v > float64(cfg.Batch.MaxInflightBytes) {
		t.Fatalf("%v bytes still in flight with only a stopped partition left, want less than the bound", v)
	}
}

// stallSink holds every write to one collection until release is closed,
// as a Sink retrying against an unavailable collection does.
type stallSink struct {
	Sink
	coll    string
	release chan struct{}
	once    sync.Once
}

func (s *stallSink) Write(ctx context.Context, coll string, ops []sink.Op) ([]sink.Rejected, error) {
	if coll == s.coll {
		select {
		case <-s.release:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	return s.Sink.Write(ctx, coll, ops)
}

func (s *stallSink) unstall() { s.once.Do(func() { close(s.release) }) }

// TestStalledPartitionDoesNotBlockOthers: partition 0 routes to a
// collection whose writes hang, with a backlog far larger than
// batch.max_inflight_bytes. Partition 1 must keep being applied and
// committed meanwhile; the stalled partition's lag keeps moving; when the
// collection comes back, partition 0's whole backlog (the records it let go
// while stalled included) is applied and committed.
func TestStalledPartitionDoesNotBlockOthers(t *testing.T) {
	e := newEnv(t, 2)
	e.createCollection("side", testDim)
	stall := &stallSink{coll: "side", release: make(chan struct{})}
	e.wrapSink = func(s Sink) Sink { stall.Sink = s; return stall }
	t.Cleanup(stall.unstall)
	cfg := e.testConfig()
	smallBound(&cfg)
	wantSide := map[uint64]point{}
	e.producePadded(0, 0, 1000, "side", wantSide)
	m := e.start(cfg)

	want := map[uint64]point{}
	e.producePadded(1, 10_000, 1000, "", want)
	waitFor(t, 40*time.Second, "partition 1 applied and committed", func() error {
		if err := e.contentEquals(e.topic, want); err != nil {
			return err
		}
		if c := e.committedOffsets(); c[1] != 1000 {
			return errorf("committed %v, want partition 1 at 1000", c)
		}
		return nil
	})
	e.producePadded(0, 1000, 50, "side", wantSide)
	waitFor(t, 10*time.Second, "lag of the stalled partition to follow", func() error {
		if l := lagOf(t, m.reg, e.topic, 0); l != 1050 {
			return errorf("lag of partition 0 = %v, want 1050", l)
		}
		return nil
	})
	if c := e.committedOffsets(); c[0] != 0 {
		t.Fatalf("stalled partition 0 committed %d, want 0", c[0])
	}

	stall.unstall()
	waitFor(t, 60*time.Second, "everything applied and committed after the stall", func() error {
		if err := e.contentEquals("side", wantSide); err != nil {
			return err
		}
		if err := e.contentEquals(e.topic, want); err != nil {
			return err
		}
		return e.committedEqualsEnd()
	})
	if v := gaugeValue(t, m.reg, "kafka_qdrant_paused_partitions"); v != 0 {
		t.Fatalf("paused partitions after the stall = %v, want 0", v)
	}
	if recs := e.dlqRecords(); len(recs) != 0 {
		t.Fatalf("DLQ has %d records, want 0", len(recs))
	}
}
