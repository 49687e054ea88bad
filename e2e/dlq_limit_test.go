package e2e

import (
	"context"
	"encoding/hex"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/seed-a550a1ef/kafka-qdrant/e2e/internal/harness"
)

// DLQ headers of a record cut to fit the DLQ topic.
const (
	hdrTruncated    = "kq.errors.truncated"
	hdrOriginalSize = "kq.errors.original.size"
)

// TestOversizeRecordFitsTheDLQTopic: the DLQ topic accepts records of at
// most 8 KiB (max.message.bytes, checked by the broker after compression)
// and an oversize record of 40 KiB of incompressible JSON arrives. It is
// dead-lettered cut to the topic's limit, with headers naming the cut and
// the original size; a small bad record goes whole; the good records are
// applied and the topic is committed to its end (before, the oversize
// record was produced, refused with MESSAGE_TOO_LARGE and retried forever,
// and its partition never moved again).
func TestOversizeRecordFitsTheDLQTopic(t *testing.T) {
	s := scenario(t, harness.ScenarioOptions{Partitions: 1, Dim: 4, DLQ: true})
	ctx := testContext(t, 3*time.Minute)
	const limit = 8 << 10
	setMaxMessageBytes(ctx, t, s.Env.Admin, s.DLQTopic, limit)

	r := rand.New(rand.NewPCG(1, 2))
	blob := make([]byte, 20<<10)
	for i := range blob {
		blob[i] = byte(r.Uint32())
	}
	bigValue := []byte(`{"id": 9100, "vector": [0.1, 0.2, 0.3, 0.4], "payload": {"blob": "` + hex.EncodeToString(blob) + `"}}`)
	m := harness.NewModel()
	recs := upserts(m, 0, 10, 0)
	recs = append(recs,
		harness.Record{Key: []byte("9100"), Value: bigValue, Headers: []kgo.RecordHeader{{Key: hdrCase, Value: []byte("big")}}},
		harness.Record{Key: []byte("9101"), Value: []byte(`{"id": 9101, "vector": [0.1,`), Headers: []kgo.RecordHeader{{Key: hdrCase, Value: []byte("small")}}},
	)
	recs = append(recs, upserts(m, 10, 20, 0)...)

	cfg := s.Config()
	cfg.Set("record.max_bytes", 2048)
	s.Start(ctx, "a", cfg)
	s.Produce(ctx, recs)
	s.AssertFinal(ctx, m, 90*time.Second)

	msgs, err := harness.KcatConsumeAll(ctx, s.Env.Kafka.Brokers, s.DLQTopic)
	if err != nil {
		t.Fatal(err)
	}
	if len(msgs) != 2 {
		t.Fatalf("DLQ holds %d records, want 2", len(msgs))
	}
	for _, msg := range msgs {
		c, _ := msg.Header(hdrCase)
		switch c {
		case "big":
			cut, _ := msg.Header(hdrTruncated)
			size, _ := msg.Header(hdrOriginalSize)
			class, _ := msg.Header(hdrClass)
			if !strings.Contains(cut, "value") || size != strconv.Itoa(4+len(bigValue)) || class != "oversize" {
				t.Errorf("oversize record: %s=%q %s=%q %s=%q; want the value cut, original size %d, class oversize",
					hdrTruncated, cut, hdrOriginalSize, size, hdrClass, class, 4+len(bigValue))
			}
			if msg.Payload == nil || len(*msg.Payload) == 0 || len(*msg.Payload) >= limit || !strings.HasPrefix(string(bigValue), *msg.Payload) {
				t.Errorf("oversize record: DLQ value is not a cut of the original within %d bytes", limit)
			}
		case "small":
			if cut, ok := msg.Header(hdrTruncated); ok || msg.Payload == nil || *msg.Payload != `{"id": 9101, "vector": [0.1,` {
				t.Errorf("small bad record: %s=%q, value %v; want it whole", hdrTruncated, cut, strPtr(msg.Payload))
			}
		default:
			t.Errorf("unexpected DLQ record with %s=%q", hdrCase, c)
		}
	}
}

// setMaxMessageBytes sets a topic's max.message.bytes.
func setMaxMessageBytes(ctx context.Context, t *testing.T, adm *kadm.Client, topic string, n int) {
	t.Helper()
	v := strconv.Itoa(n)
	resp, err := adm.AlterTopicConfigs(ctx, []kadm.AlterConfig{{Op: kadm.SetConfig, Name: "max.message.bytes", Value: &v}}, topic)
	if err == nil {
		_, err = resp.On(topic, nil)
	}
	if err != nil {
		t.Fatalf("setting max.message.bytes of %s: %v", topic, err)
	}
}
