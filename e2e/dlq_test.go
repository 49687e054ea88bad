package e2e

import (
	"bytes"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/seed-a550a1ef/kafka-qdrant/e2e/internal/harness"
)

// DLQ header names of DESIGN.md (the Kafka Connect names plus the stage).
const (
	hdrTopic     = "__connect.errors.topic"
	hdrPartition = "__connect.errors.partition"
	hdrOffset    = "__connect.errors.offset"
	hdrClass     = "__connect.errors.exception.class.name"
	hdrMessage   = "__connect.errors.exception.message"
	hdrStage     = "kq.errors.stage"
	hdrCase      = "e2e-case" // the test's own header, which must be kept
)

// TestBadRecordsGoToDLQWithHeaders: each kind of bad record lands in the
// DLQ with its original key, value and headers plus the error headers,
// read back with kcat; the good records around them are all applied and
// the data topic is committed to its end.
func TestBadRecordsGoToDLQWithHeaders(t *testing.T) {
	s := scenario(t, harness.ScenarioOptions{Partitions: 2, Dim: 4, DLQ: true})
	ctx := testContext(t, 3*time.Minute)

	big := `{"id": 9100, "vector": [0.1, 0.2, 0.3, 0.4], "payload": {"blob": "` + strings.Repeat("x", 3000) + `"}}`
	bad := []struct {
		name       string
		key, value []byte
		class      string
		stage      string
	}{
		{"invalid JSON", []byte("9001"), []byte(`{"id": 9001, "vector": [0.1, 0.2,`), "decode", "decode"},
		{"value not an object", []byte("9002"), []byte(`[1, 2, 3]`), "decode", "decode"},
		{"tombstone without key", nil, nil, "decode", "decode"},
		{"no id and no key", nil, []byte(`{"vector": [0.1, 0.2, 0.3, 0.4]}`), "validate", "validate"},
		{"empty vector", []byte("9003"), []byte(`{"id": 9003, "vector": []}`), "validate", "validate"},
		{"number out of float32 range (Inf)", []byte("9004"), []byte(`{"id": 9004, "vector": [1e400, 1, 1, 1]}`), "validate", "validate"},
		{"wrong dimension", []byte("9005"), []byte(`{"id": 9005, "vector": [0.1, 0.2, 0.3]}`), "validate", "validate"},
		{"payload not an object", []byte("9006"), []byte(`{"id": 9006, "vector": [0.1, 0.2, 0.3, 0.4], "payload": [1]}`), "validate", "validate"},
		{"unknown collection", []byte("9007"), []byte(`{"id": 9007, "vector": [0.1, 0.2, 0.3, 0.4], "collection_name": "kqe2e-no-such-collection"}`), "unknown_collection", "route"},
		{"oversize", []byte("9100"), []byte(big), "oversize", "decode"},
	}

	m := harness.NewModel()
	var recs []harness.Record
	badAt := map[int]int{} // index in recs -> index in bad
	good := 0
	for i, b := range bad {
		for j := 0; j < 10; j++ {
			recs = append(recs, m.Upsert(harness.NumID(uint64(good)), vec(good, 0), payload(good, 0)))
			good++
		}
		badAt[len(recs)] = i
		recs = append(recs, harness.Record{
			Key: b.key, Value: b.value,
			Headers: []kgo.RecordHeader{{Key: hdrCase, Value: []byte(strconv.Itoa(i))}},
		})
	}
	recs = append(recs, upserts(m, good, good+10, 0)...)

	cfg := s.Config()
	cfg.Set("record.max_bytes", 2048)
	s.Start(ctx, "a", cfg)
	produced := s.Produce(ctx, recs)
	s.AssertFinal(ctx, m, 90*time.Second)

	// The DLQ is written before the offsets are committed, so it is
	// complete now.
	msgs, err := harness.KcatConsumeAll(ctx, s.Env.Kafka.Brokers, s.DLQTopic)
	if err != nil {
		t.Fatal(err)
	}
	if len(msgs) != len(bad) {
		t.Errorf("DLQ holds %d records, want %d (one per bad record)", len(msgs), len(bad))
	}
	seen := map[int]bool{}
	for _, msg := range msgs {
		c, ok := msg.Header(hdrCase)
		if !ok {
			t.Errorf("DLQ record at offset %d lost the original header %s: headers %v", msg.Offset, hdrCase, msg.Headers)
			continue
		}
		i, err := strconv.Atoi(c)
		if err != nil || i < 0 || i >= len(bad) {
			t.Errorf("DLQ record with unexpected %s=%q", hdrCase, c)
			continue
		}
		if seen[i] {
			t.Errorf("%s: dead-lettered twice", bad[i].name)
		}
		seen[i] = true
		checkDLQRecord(t, s, msg, bad[i].name, bad[i].key, bad[i].value, bad[i].class, bad[i].stage, producedOf(produced, badAt, i))
	}
	for i, b := range bad {
		if !seen[i] {
			t.Errorf("%s: not in the DLQ", b.name)
		}
	}
}

// producedOf returns where bad record i landed.
func producedOf(produced []harness.Produced, badAt map[int]int, i int) harness.Produced {
	for at, bi := range badAt {
		if bi == i {
			return produced[at]
		}
	}
	return harness.Produced{Partition: -1, Offset: -1}
}

func checkDLQRecord(t *testing.T, s *harness.Scenario, msg harness.KcatMessage, name string, key, value []byte, class, stage string, at harness.Produced) {
	t.Helper()
	if !sameBytes(msg.Key, key) {
		t.Errorf("%s: DLQ key %v, want the original %q", name, strPtr(msg.Key), key)
	}
	if !sameBytes(msg.Payload, value) {
		t.Errorf("%s: DLQ value differs from the original %.80q", name, value)
	}
	want := map[string]string{
		hdrTopic:     s.Topic,
		hdrPartition: strconv.Itoa(int(at.Partition)),
		hdrOffset:    strconv.FormatInt(at.Offset, 10),
		hdrClass:     class,
		hdrStage:     stage,
	}
	for h, w := range want {
		got, ok := msg.Header(h)
		if !ok {
			t.Errorf("%s: DLQ record has no header %s (headers %v)", name, h, msg.Headers)
			continue
		}
		if got != w {
			t.Errorf("%s: header %s = %q, want %q", name, h, got, w)
		}
	}
	if got, ok := msg.Header(hdrMessage); !ok || strings.TrimSpace(got) == "" {
		t.Errorf("%s: header %s missing or empty", name, hdrMessage)
	}
}

// sameBytes compares kcat's rendering (nil for null) with the original.
func sameBytes(got *string, want []byte) bool {
	if want == nil {
		return got == nil
	}
	return got != nil && bytes.Equal([]byte(*got), want)
}

func strPtr(p *string) string {
	if p == nil {
		return "null"
	}
	return strconv.Quote(*p)
}
