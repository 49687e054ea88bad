package connector

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/seed-a550a1ef/kafka-qdrant/config"
	"github.com/seed-a550a1ef/kafka-qdrant/schemas"
)

func routedUpsert(id uint64, seq int64, coll string) []byte {
	b, _ := json.Marshal(map[string]any{"id": id, "vector": vecFor(id, seq), "payload": map[string]any{"seq": seq}, "collection_name": coll})
	return b
}

// TestDeleteRecordReachesRoutedCollection: points routed by collection_name
// can be deleted by a delete record naming the same collection; a tombstone
// of the same key follows its topic's route and leaves them alone.
func TestDeleteRecordReachesRoutedCollection(t *testing.T) {
	e := newEnv(t, 1)
	e.createCollection("side", testDim)
	cfg := e.testConfig()
	e.produce(
		&kgo.Record{Key: []byte("42"), Value: routedUpsert(42, 1, "side")},
		&kgo.Record{Key: []byte("43"), Value: routedUpsert(43, 2, "side")},
		&kgo.Record{Key: []byte("44"), Value: upsertValue(44, vecFor(44, 3), 3)},
		&kgo.Record{Key: []byte("43"), Value: nil}, // the topic's route: deletes nothing in "side"
		&kgo.Record{Key: []byte("x"), Value: []byte(`{"id": 42, "delete": true, "collection_name": "side"}`)},
		&kgo.Record{Key: []byte("x"), Value: []byte(`{"id": 44, "delete": true}`)}, // the topic's route
	)
	e.start(cfg)
	waitFor(t, 30*time.Second, "deletes applied and committed", func() error {
		if err := e.contentEquals("side", map[uint64]point{43: {vecFor(43, 2), 2}}); err != nil {
			return err
		}
		if err := e.contentEquals(e.topic, map[uint64]point{}); err != nil {
			return err
		}
		return e.committedEqualsEnd()
	})
	if recs := e.dlqRecords(); len(recs) != 0 {
		t.Fatalf("DLQ has %d records (first: %s), want 0", len(recs), headers(recs[0])[HeaderMessage])
	}
}

// TestTombstoneFollowsTopicRoute: with routing.topics mapping the topic to a
// collection, tombstones delete from that collection.
func TestTombstoneFollowsTopicRoute(t *testing.T) {
	e := newEnv(t, 1)
	e.createCollection("routed", testDim)
	cfg := e.testConfig()
	cfg.Routing.Topics = map[string]config.Route{e.topic: {Collection: "routed"}}
	e.produce(
		&kgo.Record{Key: []byte("1"), Value: upsertValue(1, vecFor(1, 1), 1)},
		&kgo.Record{Key: []byte("2"), Value: upsertValue(2, vecFor(2, 2), 2)},
		&kgo.Record{Key: []byte("1"), Value: nil},
	)
	e.start(cfg)
	waitFor(t, 30*time.Second, "tombstone applied in the routed collection", func() error {
		if err := e.contentEquals("routed", map[uint64]point{2: {vecFor(2, 2), 2}}); err != nil {
			return err
		}
		return e.committedEqualsEnd()
	})
}

// TestStrictKeyID: under record.key_id strict, an upsert whose value id
// disagrees with its key goes to the DLQ with a message naming both, and
// tombstones delete exactly what upserts of the same key wrote.
func TestStrictKeyID(t *testing.T) {
	e := newEnv(t, 1)
	cfg := e.testConfig()
	cfg.Record.KeyID = "strict"
	e.produce(
		&kgo.Record{Key: []byte("movie-42"), Value: upsertValue(42, vecFor(42, 1), 1)},
		&kgo.Record{Key: []byte("7"), Value: upsertValue(7, vecFor(7, 2), 2)},
		&kgo.Record{Key: []byte("0008"), Value: upsertValue(8, vecFor(8, 3), 3)},
		&kgo.Record{Key: []byte("7"), Value: nil},
	)
	e.start(cfg)
	waitFor(t, 30*time.Second, "records applied and committed", func() error {
		if err := e.contentEquals(e.topic, map[uint64]point{8: {vecFor(8, 3), 3}}); err != nil {
			return err
		}
		return e.committedEqualsEnd()
	})
	dlq := e.dlqRecords()
	if len(dlq) != 1 {
		t.Fatalf("DLQ has %d records, want 1", len(dlq))
	}
	h := headers(dlq[0])
	if h[HeaderClassName] != string(schemas.ClassValidate) || !strings.Contains(h[HeaderMessage], `"movie-42"`) ||
		!strings.Contains(h[HeaderMessage], "id 42") || string(dlq[0].Key) != "movie-42" {
		t.Fatalf("DLQ record: key %q, headers %v; want class validate and a message naming the key and the id", dlq[0].Key, h)
	}
}
