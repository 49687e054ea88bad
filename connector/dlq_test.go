package connector

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"google.golang.org/grpc/codes"

	"github.com/seed-a550a1ef/kafka-qdrant/schemas"
)

// TestBadRecordsGoToDLQ: one record of each invalid class among good ones.
func TestBadRecordsGoToDLQ(t *testing.T) {
	e := newEnv(t, 1)
	cfg := e.testConfig()
	cfg.Record.MaxBytes = 2048
	bad := []struct {
		name  string
		key   string
		value []byte
		class schemas.ErrorClass
		msg   string
	}{
		{"invalid json", "b1", []byte(`{"id": 1, "vector": [1,2`), schemas.ClassDecode, ""},
		{"not an object", "b2", []byte(`[1,2,3]`), schemas.ClassDecode, ""},
		{"no id no key", "", []byte(`{"vector": [1,2,3,4]}`), schemas.ClassValidate, "id"},
		{"unsafe id", "b4", []byte(`{"id": -5, "vector": [1,2,3,4]}`), schemas.ClassValidate, "id"},
		{"missing vector", "b5", []byte(`{"id": 5}`), schemas.ClassValidate, "vector"},
		{"empty vector", "b6", []byte(`{"id": 6, "vector": []}`), schemas.ClassValidate, "vector"},
		{"overflow to inf", "b7", []byte(`{"id": 7, "vector": [1e39, 1, 1, 1]}`), schemas.ClassValidate, ""},
		{"wrong dimension", "b8", []byte(`{"id": 8, "vector": [1, 2, 3]}`), schemas.ClassValidate, "dim"},
		{"sparse mismatch", "b9", []byte(`{"id": 9, "vector": {"s": {"indices": [1, 2], "values": [0.5]}}}`), schemas.ClassValidate, ""},
		{"sparse duplicates", "b10", []byte(`{"id": 10, "vector": {"s": {"indices": [1, 1], "values": [0.5, 0.6]}}}`), schemas.ClassValidate, ""},
		{"payload not object", "b11", []byte(`{"id": 11, "vector": [1,2,3,4], "payload": [1]}`), schemas.ClassValidate, "payload"},
		{"oversize", "b12", []byte(`{"id": 12, "vector": [1,2,3,4], "payload": {"x": "` + strings.Repeat("x", 3000) + `"}}`), schemas.ClassOversize, ""},
		{"unknown collection", "b13", []byte(`{"id": 13, "vector": [1,2,3,4], "collection_name": "nope"}`), schemas.ClassUnknownCollection, "nope"},
		{"unknown vector name", "b14", []byte(`{"id": 14, "vector": {"image": [1,2,3,4]}}`), schemas.ClassValidate, "image"},
	}
	want := map[uint64]point{}
	var recs []*kgo.Record
	good := func(id uint64) {
		vec := vecFor(id, int64(id))
		recs = append(recs, &kgo.Record{Key: []byte(strconv.FormatUint(id, 10)), Value: upsertValue(id, vec, int64(id))})
		want[id] = point{vec, int64(id)}
	}
	for i, b := range bad {
		good(uint64(100 + i))
		var key []byte
		if b.key != "" {
			key = []byte(b.key)
		}
		recs = append(recs, &kgo.Record{Key: key, Value: b.value,
			Headers: []kgo.RecordHeader{{Key: "trace", Value: []byte(b.name)}}})
	}
	good(999)
	e.produce(recs...)
	e.start(cfg)
	waitFor(t, 30*time.Second, "good records applied and offsets committed", func() error {
		if err := e.contentEquals(e.topic, want); err != nil {
			return err
		}
		return e.committedEqualsEnd()
	})
	dlq := e.dlqRecords()
	if len(dlq) != len(bad) {
		t.Fatalf("DLQ has %d records, want %d", len(dlq), len(bad))
	}
	for i, r := range dlq {
		b := bad[i]
		h := headers(r)
		if got := h["trace"]; got != b.name {
			t.Errorf("DLQ record %d: original header trace=%q, want %q (order must follow offsets)", i, got, b.name)
			continue
		}
		if string(r.Value) != string(b.value) || string(r.Key) != b.key {
			t.Errorf("%s: key/value not preserved", b.name)
		}
		src := recs[2*i+1]
		checks := map[string]string{
			HeaderTopic:     e.topic,
			HeaderPartition: "0",
			HeaderOffset:    strconv.Itoa(2*i + 1),
			HeaderClassName: string(b.class),
		}
		_ = src
		for k, v := range checks {
			if h[k] != v {
				t.Errorf("%s: header %s = %q, want %q", b.name, k, h[k], v)
			}
		}
		if h[HeaderMessage] == "" || !strings.Contains(h[HeaderMessage], b.msg) {
			t.Errorf("%s: message %q does not mention %q", b.name, h[HeaderMessage], b.msg)
		}
		if h[HeaderStage] == "" {
			t.Errorf("%s: no %s header", b.name, HeaderStage)
		}
	}
}

func headers(r *kgo.Record) map[string]string {
	m := map[string]string{}
	for _, h := range r.Headers {
		m[h.Key] = string(h.Value)
	}
	return m
}

// TestQdrantRejectedGoesToDLQ: a batch Qdrant rejects as invalid is
// bisected down to the records it keeps rejecting.
func TestQdrantRejectedGoesToDLQ(t *testing.T) {
	e := newEnv(t, 1)
	cfg := e.testConfig()
	cfg.Batch.Linger = 300 * time.Millisecond
	e.qs.FailNext("/qdrant.Points/UpdateBatch", 1000, codes.InvalidArgument, "Wrong input: simulated rejection")
	var recs []*kgo.Record
	for i := range 3 {
		recs = append(recs, &kgo.Record{Key: []byte(strconv.Itoa(i)), Value: upsertValue(uint64(i), vecFor(uint64(i), 1), 1)})
	}
	e.produce(recs...)
	e.start(cfg)
	waitFor(t, 30*time.Second, "offsets committed", e.committedEqualsEnd)
	dlq := e.dlqRecords()
	if len(dlq) != 3 {
		t.Fatalf("DLQ has %d records, want 3", len(dlq))
	}
	for _, r := range dlq {
		h := headers(r)
		if h[HeaderClassName] != string(schemas.ClassQdrantRejected) || !strings.Contains(h[HeaderMessage], "simulated rejection") {
			t.Errorf("DLQ headers %v", h)
		}
	}
}

// TestNoDLQStopsPartition: without a DLQ topic a bad record stops its
// partition: records before it are applied and committed, the bad one and
// everything after it are not committed, other partitions go on.
func TestNoDLQStopsPartition(t *testing.T) {
	e := newEnv(t, 2)
	cfg := e.testConfig()
	cfg.Kafka.DLQTopic = ""
	m := e.start(cfg)
	e.produce(
		&kgo.Record{Partition: 0, Key: []byte("1"), Value: upsertValue(1, vecFor(1, 1), 1)},
		&kgo.Record{Partition: 0, Key: []byte("2"), Value: []byte(`not json`)},
		&kgo.Record{Partition: 0, Key: []byte("3"), Value: upsertValue(3, vecFor(3, 3), 3)},
		&kgo.Record{Partition: 1, Key: []byte("4"), Value: upsertValue(4, vecFor(4, 4), 4)},
	)
	waitFor(t, 30*time.Second, "partition 0 stopped at offset 1, partition 1 done", func() error {
		c := e.committedOffsets()
		if c[0] != 1 || c[1] != 1 {
			return errorf("committed %v", c)
		}
		if gaugeValue(t, m.reg, "kafka_qdrant_partitions_stopped") != 1 {
			return errorf("partitions_stopped gauge not 1")
		}
		return nil
	})
	if err := m.c.Ready(); err == nil || !strings.Contains(err.Error(), "offset 1") {
		t.Fatalf("Ready() = %v, want an error naming the bad record's offset", err)
	}
	// It stays stopped: nothing past the bad record is ever committed.
	time.Sleep(300 * time.Millisecond)
	if c := e.committedOffsets(); c[0] != 1 {
		t.Fatalf("partition 0 committed %d after stopping, want 1", c[0])
	}
}

// TestDLQTopicCreatedWhenMissing: a missing kafka.dlq_topic is created at
// start, and a bad record lands in it.
func TestDLQTopicCreatedWhenMissing(t *testing.T) {
	e := newEnv(t, 1)
	cfg := e.testConfig()
	e.dlq = "created.dlq"
	cfg.Kafka.DLQTopic = e.dlq
	e.produce(&kgo.Record{Key: []byte("1"), Value: []byte(`not json`)})
	e.start(cfg)
	waitFor(t, 30*time.Second, "offsets committed", e.committedEqualsEnd)
	if recs := e.dlqRecords(); len(recs) != 1 || headers(recs[0])[HeaderClassName] != string(schemas.ClassDecode) {
		t.Fatalf("DLQ %s has %d records, want the bad one", e.dlq, len(recs))
	}
}
