package connector

import (
	"bytes"
	"context"
	"encoding/hex"
	"math/rand/v2"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
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

// incompressible is n hex digits that no producer compression shrinks much
// (the broker measures max.message.bytes after compression).
func incompressible(n int) string {
	r := rand.New(rand.NewPCG(uint64(n), 7))
	b := make([]byte, n/2+1)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return hex.EncodeToString(b)[:n]
}

// setDLQMaxMessageBytes sets max.message.bytes of the DLQ topic.
func (e *env) setDLQMaxMessageBytes(n int) { e.setDLQConfig("max.message.bytes", strconv.Itoa(n)) }

// setDLQConfig sets a configuration entry of the DLQ topic.
func (e *env) setDLQConfig(name, v string) {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	resp, err := e.adm.AlterTopicConfigs(ctx, []kadm.AlterConfig{{Op: kadm.SetConfig, Name: name, Value: &v}}, e.dlq)
	if err == nil {
		_, err = resp.On(e.dlq, nil)
	}
	if err != nil {
		e.t.Fatal(err)
	}
}

// checkTruncated asserts that r is the DLQ record of orig cut to fit limit:
// a prefix of the original value, the cut named in the headers with the
// original size, and the error headers kept.
func checkTruncated(t *testing.T, r, orig *kgo.Record, class schemas.ErrorClass, limit int) {
	t.Helper()
	h := headers(r)
	if h[HeaderTruncated] == "" || !strings.Contains(h[HeaderTruncated], "value") {
		t.Errorf("truncated DLQ record: header %s = %q, want it to name the value", HeaderTruncated, h[HeaderTruncated])
	}
	if want := strconv.Itoa(len(orig.Key) + len(orig.Value)); h[HeaderOriginalSize] != want {
		t.Errorf("header %s = %q, want %s", HeaderOriginalSize, h[HeaderOriginalSize], want)
	}
	if len(r.Value) >= len(orig.Value) || !bytes.HasPrefix(orig.Value, r.Value) {
		t.Errorf("DLQ value (%d bytes) is not a cut of the original (%d bytes)", len(r.Value), len(orig.Value))
	}
	if n := dlqRecordSize(r); n > limit {
		t.Errorf("DLQ record is %d bytes in a batch, over max.message.bytes %d", n, limit)
	}
	if h[HeaderClassName] != string(class) || h[HeaderOffset] != strconv.FormatInt(orig.Offset, 10) || h[HeaderMessage] == "" {
		t.Errorf("error headers not kept: %v", h)
	}
	if h["trace"] != "big" {
		t.Errorf("original header lost: %v", h)
	}
}

// TestOversizeRecordDeadLettered: the DLQ topic's max.message.bytes (8 KiB)
// is far below an oversize record (12 KiB). The DLQ producer is sized from
// the topic, the record is dead-lettered cut to fit (headers say so, with
// its original size), a small bad record goes whole, and the partition is
// committed to its end.
func TestOversizeRecordDeadLettered(t *testing.T) {
	e := newEnv(t, 1)
	const limit = 8 << 10
	e.setDLQMaxMessageBytes(limit)
	cfg := e.testConfig()
	cfg.Record.MaxBytes = 2048
	big := &kgo.Record{Key: []byte("big"), Value: []byte(`{"id": 1, "vector": [1, 2, 3, 4], "payload": {"x": "` + incompressible(12<<10) + `"}}`),
		Headers: []kgo.RecordHeader{{Key: "trace", Value: []byte("big")}}}
	small := &kgo.Record{Key: []byte("small"), Value: []byte(`not json`)}
	e.produce(big, small, &kgo.Record{Key: []byte("3"), Value: upsertValue(3, vecFor(3, 3), 3)})
	m := e.start(cfg)
	waitFor(t, 30*time.Second, "offsets committed", e.committedEqualsEnd)
	dlq := e.dlqRecords()
	if len(dlq) != 2 {
		t.Fatalf("DLQ has %d records, want 2", len(dlq))
	}
	checkTruncated(t, dlq[0], big, schemas.ClassOversize, limit)
	if h := headers(dlq[1]); h[HeaderTruncated] != "" || string(dlq[1].Value) != "not json" {
		t.Errorf("small bad record: headers %v, value %q; want it whole", h, dlq[1].Value)
	}
	if v := gaugeValue(t, m.reg, "kafka_qdrant_dlq_truncated_total"); v != 1 {
		t.Errorf("kafka_qdrant_dlq_truncated_total = %v, want 1", v)
	}
}

// TestDLQLimitLoweredWhileRunning: max.message.bytes of the DLQ topic is
// lowered after the replica sized its producer, so the broker refuses the
// record (MESSAGE_TOO_LARGE, permanent). It is cut further until the broker
// takes it, never retried as it is forever.
func TestDLQLimitLoweredWhileRunning(t *testing.T) {
	e := newEnv(t, 1)
	cfg := e.testConfig()
	cfg.Record.MaxBytes = 2048
	e.produce(&kgo.Record{Key: []byte("1"), Value: upsertValue(1, vecFor(1, 1), 1)})
	e.start(cfg)
	waitFor(t, 30*time.Second, "first record committed", e.committedEqualsEnd)
	const limit = 4 << 10
	e.setDLQMaxMessageBytes(limit)
	big := &kgo.Record{Key: []byte("big"), Value: []byte(`{"id": 2, "vector": [1, 2, 3, 4], "payload": {"x": "` + incompressible(12<<10) + `"}}`),
		Headers: []kgo.RecordHeader{{Key: "trace", Value: []byte("big")}}}
	e.produce(big)
	waitFor(t, 30*time.Second, "oversize record dead-lettered and committed", e.committedEqualsEnd)
	dlq := e.dlqRecords()
	if len(dlq) != 1 {
		t.Fatalf("DLQ has %d records, want 1", len(dlq))
	}
	checkTruncated(t, dlq[0], big, schemas.ClassOversize, limit)
}

// TestDLQRecordCut: dlqRecord keeps a record whole when it fits and
// otherwise cuts value, original headers, key and message, in that order,
// until it fits, saying what it cut.
func TestDLQRecordCut(t *testing.T) {
	bad := func(key, value string, headers int) failedRecord {
		r := &kgo.Record{Topic: "t", Partition: 3, Offset: 42, Key: []byte(key), Value: []byte(value)}
		for i := range headers {
			r.Headers = append(r.Headers, kgo.RecordHeader{Key: "h" + strconv.Itoa(i), Value: []byte(strings.Repeat("v", 100))})
		}
		return failedRecord{rec: r, err: schemas.NewRecordError(schemas.ClassOversize, schemas.StageDecode, "%s", strings.Repeat("m", 3000))}
	}
	cases := []struct {
		name  string
		f     failedRecord
		limit int
		cuts  string // "" = whole
		floor bool
	}{
		{"fits", bad("k", "v", 2), 1 << 20, "", false},
		{"value cut", bad("k", strings.Repeat("x", 10_000), 2), 5000, "value", false},
		{"headers dropped", bad("k", strings.Repeat("x", 10_000), 40), 3500, "value,headers", false},
		{"key cut", bad(strings.Repeat("k", 8000), "x", 1), 3600, "value,headers,key", false},
		{"message cut", bad("k", "x", 0), 700, "value,key,message", false},
		{"message cut to its minimum", bad("k", "x", 0), 500, "value,key,message", true},
		{"limit below the error headers", bad("", "", 0), 100, "message", true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r, floor := dlqRecord("dlq", c.f, c.limit)
			h := headers(r)
			if h[HeaderTruncated] != c.cuts {
				t.Errorf("%s = %q, want %q", HeaderTruncated, h[HeaderTruncated], c.cuts)
			}
			if floor != c.floor {
				t.Errorf("floor = %v, want %v", floor, c.floor)
			}
			if !c.floor && dlqRecordSize(r) > c.limit {
				t.Errorf("record is %d bytes, over the limit %d", dlqRecordSize(r), c.limit)
			}
			orig := c.f.rec
			if c.cuts == "" {
				if !bytes.Equal(r.Value, orig.Value) || !bytes.Equal(r.Key, orig.Key) || len(r.Headers) != len(orig.Headers)+6 {
					t.Errorf("record changed although it fits")
				}
				return
			}
			if want := strconv.Itoa(len(orig.Key) + len(orig.Value)); h[HeaderOriginalSize] != want {
				t.Errorf("%s = %q, want %s", HeaderOriginalSize, h[HeaderOriginalSize], want)
			}
			if !bytes.HasPrefix(orig.Value, r.Value) || !bytes.HasPrefix(orig.Key, r.Key) {
				t.Errorf("key or value is not a prefix of the original")
			}
			if h[HeaderClassName] != "oversize" || h[HeaderOffset] != "42" || h[HeaderPartition] != "3" || len(h[HeaderMessage]) < minMessageBytes {
				t.Errorf("error headers not kept: %v", h)
			}
		})
	}
}

// TestCompactedDLQTopicRefused: a DLQ topic with cleanup.policy=compact
// refuses records without a key (INVALID_RECORD, which retrying never
// fixes) and compacts away earlier dead letters of the same key. The
// replica refuses to start on it, naming the key and the fix, instead of
// retrying a keyless bad record forever.
func TestCompactedDLQTopicRefused(t *testing.T) {
	e := newEnv(t, 1)
	e.setDLQConfig("cleanup.policy", "compact")
	e.produce(&kgo.Record{Value: []byte(`not json`)}) // keyless and bad
	m := e.start(e.testConfig())
	select {
	case err := <-m.done:
		if err == nil || !strings.Contains(err.Error(), "kafka.dlq_topic") || !strings.Contains(err.Error(), "cleanup.policy") {
			t.Fatalf("Run = %v, want an error naming kafka.dlq_topic and its cleanup.policy", err)
		}
		m.once.Do(func() {}) // Run returned: nothing left to stop
	case <-time.After(15 * time.Second):
		t.Fatal("the replica runs on a compacted DLQ topic")
	}
	if c := e.committedOffsets(); c[0] != 0 {
		t.Fatalf("committed %v: the bad record was skipped", c)
	}
}

// TestDLQProduceErrorHint: a DLQ topic that refuses records as invalid
// (a compacted one whose configuration the replica could not read, so the
// start-up check could not see it) is retried without losing the record,
// and the retries say what to fix.
func TestDLQProduceErrorHint(t *testing.T) {
	e := newEnv(t, 1)
	e.logs = &logCapture{}
	topics, err := e.adm.ListTopics(context.Background(), e.dlq)
	if err != nil {
		t.Fatal(err)
	}
	dlqID := topics[e.dlq].ID // produce v13 names topics by id
	var refused atomic.Int32
	e.kafka.ControlKey(int16(kmsg.Produce), func(req kmsg.Request) (kmsg.Response, error, bool) {
		e.kafka.KeepControl()
		pr := req.(*kmsg.ProduceRequest)
		if len(pr.Topics) == 0 || (pr.Topics[0].Topic != e.dlq && pr.Topics[0].TopicID != dlqID) || refused.Load() >= 3 {
			return nil, nil, false
		}
		refused.Add(1)
		resp := pr.ResponseKind().(*kmsg.ProduceResponse)
		for _, rt := range pr.Topics {
			st := kmsg.NewProduceResponseTopic()
			st.Topic, st.TopicID = rt.Topic, rt.TopicID
			for _, rp := range rt.Partitions {
				sp := kmsg.NewProduceResponseTopicPartition()
				sp.Partition = rp.Partition
				sp.ErrorCode = kerr.InvalidRecord.Code
				st.Partitions = append(st.Partitions, sp)
			}
			resp.Topics = append(resp.Topics, st)
		}
		return resp, nil, true
	})
	e.produce(&kgo.Record{Value: []byte(`not json`)})
	e.start(e.testConfig())
	waitFor(t, 30*time.Second, "the bad record dead-lettered after the refusals", e.committedEqualsEnd)
	if n := refused.Load(); n < 3 {
		t.Fatalf("%d produce requests refused, want 3", n)
	}
	if n := len(e.dlqRecords()); n != 1 {
		t.Fatalf("DLQ has %d records, want 1", n)
	}
	if !e.logs.contains("producing to the DLQ; retrying", "INVALID_RECORD", "cleanup.policy=delete") {
		t.Fatal("no retry log naming INVALID_RECORD and the fix (cleanup.policy=delete)")
	}
}
