package connector

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hamba/avro/v2"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sr"
	"google.golang.org/protobuf/proto"

	"github.com/seed-a550a1ef/kafka-qdrant/config"
	"github.com/seed-a550a1ef/kafka-qdrant/schemas"
	"github.com/seed-a550a1ef/kafka-qdrant/schemas/recordpb"
	"github.com/seed-a550a1ef/kafka-qdrant/sink"
)

// testAvroSchema is the Avro type of the registry tests' records.
const testAvroSchema = `{"type": "record", "name": "Point", "fields": [
  {"name": "id", "type": "long"},
  {"name": "vector", "type": {"type": "array", "items": "float"}},
  {"name": "payload", "type": {"type": "record", "name": "Info", "fields": [{"name": "seq", "type": "long"}]}}]}`

const testAvroID = 7

// avroUpsert is upsertValue in Avro, framed for schema id.
func avroUpsert(id int, point uint64, seq int64) []byte {
	b, err := avro.Marshal(avro.MustParse(testAvroSchema), map[string]any{
		"id": int64(point), "vector": vecFor(point, seq), "payload": map[string]any{"seq": seq},
	})
	if err != nil {
		panic(err)
	}
	out, _ := new(sr.ConfluentHeader).AppendEncode(nil, id, nil)
	return append(out, b...)
}

// fakeSchemas is a Schema Registry that fails while down is set.
type fakeSchemas struct {
	schemas map[int]schemas.RegisteredSchema
	down    atomic.Bool
	asked   atomic.Int64
}

func (f *fakeSchemas) SchemaByID(ctx context.Context, id int) (schemas.RegisteredSchema, error) {
	f.asked.Add(1)
	if f.down.Load() {
		return schemas.RegisteredSchema{}, errors.New("dial tcp 127.0.0.1:8081: connect: connection refused")
	}
	s, ok := f.schemas[id]
	if !ok {
		return s, fmt.Errorf("schema id %d: %w", id, schemas.ErrSchemaNotFound)
	}
	return s, nil
}

func newFakeSchemas() *fakeSchemas {
	return &fakeSchemas{schemas: map[int]schemas.RegisteredSchema{
		testAvroID: {Type: schemas.SchemaAvro, Schema: testAvroSchema},
	}}
}

// TestRegistryUnavailableIsRetried: while the Schema Registry cannot be
// reached, records in the registry format are retried, never
// dead-lettered or committed; once it answers, they are applied.
func TestRegistryUnavailableIsRetried(t *testing.T) {
	e := newEnv(t, 1)
	cfg := e.testConfig()
	cfg.Record.Format = "registry"
	reg := newFakeSchemas()
	reg.down.Store(true)
	cfg.Schemas = reg
	e.produce(
		&kgo.Record{Key: []byte("1"), Value: avroUpsert(testAvroID, 1, 1)},
		&kgo.Record{Key: []byte("2"), Value: avroUpsert(testAvroID, 2, 2)},
	)
	m := e.start(cfg)
	waitFor(t, 30*time.Second, "the registry asked again and again", func() error {
		if n := reg.asked.Load(); n < 3 {
			return fmt.Errorf("asked %d times", n)
		}
		return nil
	})
	if got := e.committedOffsets()[0]; got > 0 {
		t.Fatalf("committed offset %d while the registry is down, want nothing", got)
	}
	if n := len(e.dlqRecords()); n != 0 {
		t.Fatalf("%d records dead-lettered while the registry is down, want 0", n)
	}
	if n := gaugeValue(t, m.reg, "kafka_qdrant_retries_total"); n < 2 {
		t.Fatalf("kafka_qdrant_retries_total %v, want the retries counted", n)
	}
	reg.down.Store(false)
	waitFor(t, 30*time.Second, "records applied once the registry answers", func() error {
		if err := e.contentEquals(e.topic, map[uint64]point{1: {vecFor(1, 1), 1}, 2: {vecFor(2, 2), 2}}); err != nil {
			return err
		}
		return e.committedEqualsEnd()
	})
	if n := len(e.dlqRecords()); n != 0 {
		t.Fatalf("%d records dead-lettered, want 0", n)
	}
}

// TestRegistryBadRecordsGoToDLQ: a schema id the registry does not know,
// a value that is not in the wire format and one that does not follow its
// schema go to the DLQ with their classes; the others are applied.
func TestRegistryBadRecordsGoToDLQ(t *testing.T) {
	e := newEnv(t, 1)
	cfg := e.testConfig()
	cfg.Record.Format = "registry"
	cfg.Schemas = newFakeSchemas()
	truncated := avroUpsert(testAvroID, 3, 3)
	e.produce(
		&kgo.Record{Key: []byte("1"), Value: avroUpsert(testAvroID, 1, 1)},
		&kgo.Record{Key: []byte("99"), Value: avroUpsert(99, 5, 5)},
		&kgo.Record{Key: []byte("json"), Value: upsertValue(6, vecFor(6, 6), 6)},
		&kgo.Record{Key: []byte("3"), Value: truncated[:len(truncated)-3]},
		&kgo.Record{Key: []byte("2"), Value: avroUpsert(testAvroID, 2, 2)},
		&kgo.Record{Key: []byte("1"), Value: nil}, // a tombstone needs no schema
	)
	e.start(cfg)
	waitFor(t, 30*time.Second, "good records applied, bad ones dead-lettered", func() error {
		if err := e.contentEquals(e.topic, map[uint64]point{2: {vecFor(2, 2), 2}}); err != nil {
			return err
		}
		return e.committedEqualsEnd()
	})
	var got []string
	for _, r := range e.dlqRecords() {
		got = append(got, string(r.Key)+":"+headers(r)[HeaderClassName])
	}
	want := []string{"99:schema", "json:decode", "3:decode"}
	if !slices.Equal(got, want) {
		t.Fatalf("DLQ keys and classes %v, want %v", got, want)
	}
}

// TestFormatPerTopic: routing.topics.<topic>.format reads one topic in
// another format than record.format, each topic by its own.
func TestFormatPerTopic(t *testing.T) {
	e := newEnv(t, 1)
	const pbTopic = "vectors.pb"
	ctx := context.Background()
	if _, err := e.adm.CreateTopic(ctx, 1, 1, nil, pbTopic); err != nil {
		t.Fatal(err)
	}
	cfg := e.testConfig()
	cfg.Kafka.Topics = []string{e.topic, pbTopic}
	cfg.Routing.Topics = map[string]config.Route{pbTopic: {Collection: e.topic, Format: "protobuf"}}
	pb, err := proto.Marshal(&recordpb.Record{
		Id:      &recordpb.Record_Num{Num: 2},
		Vector:  &recordpb.Record_Dense{Dense: &recordpb.DenseVector{Data: vecFor(2, 2)}},
		Payload: map[string]*recordpb.Value{"seq": {Kind: &recordpb.Value_IntegerValue{IntegerValue: 2}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	e.produce(
		&kgo.Record{Key: []byte("1"), Value: upsertValue(1, vecFor(1, 1), 1)},
		&kgo.Record{Topic: pbTopic, Key: []byte("2"), Value: pb},
	)
	e.start(cfg)
	waitFor(t, 30*time.Second, "both topics applied", func() error {
		return e.contentEquals(e.topic, map[uint64]point{1: {vecFor(1, 1), 1}, 2: {vecFor(2, 2), 2}})
	})
	if n := len(e.dlqRecords()); n != 0 {
		t.Fatalf("%d records dead-lettered, want 0", n)
	}
}

// TestNewNeedsSchemasForRegistry: a registry-format topic without a
// schema source is a configuration error, not a stream of DLQ records.
func TestNewNeedsSchemasForRegistry(t *testing.T) {
	e := newEnv(t, 1)
	cfg := e.testConfig()
	cfg.Routing.Topics = map[string]config.Route{e.topic: {Format: "registry"}}
	cfg.Sink = nopSink{}
	if _, err := New(cfg); err == nil {
		t.Fatal("New accepted a registry topic without Schemas")
	}
}

type nopSink struct{}

func (nopSink) Check(context.Context, string, *schemas.Record) error { return nil }
func (nopSink) Write(context.Context, string, []sink.Op) ([]sink.Rejected, error) {
	return nil, nil
}

// TestFormatNames: config accepts exactly the formats schemas decodes.
func TestFormatNames(t *testing.T) {
	if !slices.Equal(config.RecordFormats, schemas.Formats()) {
		t.Fatalf("config.RecordFormats %v, schemas.Formats() %v", config.RecordFormats, schemas.Formats())
	}
}
