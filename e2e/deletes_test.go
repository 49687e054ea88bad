package e2e

import (
	"context"
	"encoding/json"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/seed-a550a1ef/kafka-qdrant/e2e/internal/harness"
)

// TestDeletesReachTheirPoints: with record.key_id strict, tombstones delete
// the points their keys upserted, a delete record removes a point routed
// by collection_name from that collection, and an upsert whose value id
// disagrees with its key goes to the DLQ naming both.
func TestDeletesReachTheirPoints(t *testing.T) {
	s := scenario(t, harness.ScenarioOptions{Partitions: 2, Dim: 4, DLQ: true})
	ctx := testContext(t, 3*time.Minute)
	side := s.Collection + "-side"
	if err := harness.CreateCollection(ctx, s.Env.QdrantClient, side, s.Dim); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := s.Env.QdrantClient.DeleteCollection(cctx, side); err != nil {
			t.Errorf("cleanup: deleting collection %s: %v", side, err)
		}
	})

	m, ms := harness.NewModel(), harness.NewModel()
	recs := upserts(m, 0, 20, 0)
	for i := 100; i < 105; i++ {
		recs = append(recs, routed(ms.Upsert(harness.StrID("doc-"+strconv.Itoa(i)), vec(i, 0), payload(i, 0)), side))
	}
	recs = append(recs,
		m.Delete(harness.NumID(3)),
		m.Delete(harness.NumID(17)),
		harness.Record{Key: []byte("doc-101"), Value: []byte(`{"id": "doc-101", "delete": true, "collection_name": "` + side + `"}`)},
		harness.Record{Key: []byte("movie-42"), Value: []byte(`{"id": 42, "vector": [0.1, 0.2, 0.3, 0.4]}`)},
	)
	ms.Delete(harness.StrID("doc-101"))

	cfg := s.Config()
	cfg.Set("record.key_id", "strict")
	s.Start(ctx, "a", cfg)
	s.Produce(ctx, recs)
	s.AssertFinal(ctx, m, 90*time.Second)
	got, err := harness.ReadPoints(ctx, s.Env.QdrantClient, side)
	if err != nil {
		t.Fatal(err)
	}
	if d := harness.Diff(ms.Points(), got, 5); len(d) > 0 {
		t.Fatalf("collection %s:\n  %s", side, strings.Join(d, "\n  "))
	}
	msgs, err := harness.KcatConsumeAll(ctx, s.Env.Kafka.Brokers, s.DLQTopic)
	if err != nil {
		t.Fatal(err)
	}
	if len(msgs) != 1 {
		t.Fatalf("DLQ holds %d records, want 1", len(msgs))
	}
	msg, _ := msgs[0].Header(hdrMessage)
	class, _ := msgs[0].Header(hdrClass)
	if class != "validate" || !strings.Contains(msg, `"movie-42"`) || !strings.Contains(msg, "id 42") {
		t.Fatalf("DLQ record: class %q, message %q; want validate naming the key and the id", class, msg)
	}
}

// routed adds collection_name to an upsert record's value.
func routed(r harness.Record, collection string) harness.Record {
	var v map[string]any
	if err := json.Unmarshal(r.Value, &v); err != nil {
		panic(err)
	}
	v["collection_name"] = collection
	r.Value, _ = json.Marshal(v)
	return r
}
