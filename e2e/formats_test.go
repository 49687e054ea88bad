package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/bufbuild/protocompile"
	"github.com/hamba/avro/v2"
	"github.com/twmb/franz-go/pkg/sr"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/dynamicpb"

	"github.com/seed-a550a1ef/kafka-qdrant/e2e/internal/harness"
	"github.com/seed-a550a1ef/kafka-qdrant/e2e/internal/tcpproxy"
	"github.com/seed-a550a1ef/kafka-qdrant/schemas/recordpb"
)

// The schemas a producer of the registry scenarios registers: its own
// types for the records of records_test.go.
const (
	e2eAvroSchema = `{"type": "record", "name": "Point", "namespace": "e2e", "fields": [
  {"name": "id", "type": ["null", "long", "string"], "default": null},
  {"name": "vector", "type": ["null", {"type": "array", "items": "float"}], "default": null},
  {"name": "payload", "type": ["null", {"type": "record", "name": "Payload", "fields": [
    {"name": "i", "type": "long"}, {"name": "ver", "type": "long"}, {"name": "score", "type": "double"},
    {"name": "title", "type": "string"}, {"name": "even", "type": "boolean"},
    {"name": "nested", "type": {"type": "record", "name": "Nested", "fields": [
      {"name": "bucket", "type": "long"}, {"name": "tags", "type": {"type": "array", "items": "string"}}]}}]}], "default": null},
  {"name": "delete", "type": "boolean", "default": false}]}`
	e2eProtoSchema = `syntax = "proto3";
package e2e;
message Nested { int64 bucket = 1; repeated string tags = 2; }
message Payload { int64 i = 1; int64 ver = 2; double score = 3; string title = 4; bool even = 5; Nested nested = 6; }
message Point {
  oneof id { uint64 num = 1; string text = 2; }
  repeated float vector = 3;
  Payload payload = 4;
  bool delete = 5;
}`
)

// formatCase is one record format of TestFormats: its configuration and
// how a JSON envelope record (the harness model's) is written in it.
type formatCase struct {
	name     string
	format   string // record.format
	registry bool
	// encoder returns the function that writes a record in the format;
	// for registry formats it registers the schema first.
	encoder func(t *testing.T, ctx context.Context, reg *harness.RegistryEnv, subject string) func(harness.Record) harness.Record
}

var formatCases = []formatCase{
	{name: "json", format: "json", encoder: func(*testing.T, context.Context, *harness.RegistryEnv, string) func(harness.Record) harness.Record {
		return func(r harness.Record) harness.Record { return r }
	}},
	{name: "protobuf", format: "protobuf", encoder: func(t *testing.T, _ context.Context, _ *harness.RegistryEnv, _ string) func(harness.Record) harness.Record {
		return func(r harness.Record) harness.Record {
			return mapValue(r, func(v envelope) []byte { return v.protobuf(t) })
		}
	}},
	{name: "registry_avro", format: "registry", registry: true, encoder: func(t *testing.T, ctx context.Context, reg *harness.RegistryEnv, subject string) func(harness.Record) harness.Record {
		id := register(t, ctx, reg, subject, sr.Schema{Schema: e2eAvroSchema})
		schema := avro.MustParse(e2eAvroSchema)
		return func(r harness.Record) harness.Record {
			return mapValue(r, func(v envelope) []byte { return frame(id, nil, v.avro(t, schema)) })
		}
	}},
	{name: "registry_protobuf", format: "registry", registry: true, encoder: func(t *testing.T, ctx context.Context, reg *harness.RegistryEnv, subject string) func(harness.Record) harness.Record {
		id := register(t, ctx, reg, subject, sr.Schema{Type: sr.TypeProtobuf, Schema: e2eProtoSchema})
		c := protocompile.Compiler{Resolver: &protocompile.SourceResolver{Accessor: protocompile.SourceAccessorFromMap(
			map[string]string{"point.proto": e2eProtoSchema})}}
		files, err := c.Compile(ctx, "point.proto")
		if err != nil {
			t.Fatal(err)
		}
		point := files[0].Messages().ByName("Point")
		return func(r harness.Record) harness.Record {
			return mapValue(r, func(v envelope) []byte { return frame(id, []int{2}, v.userProto(t, point)) })
		}
	}},
	{name: "registry_json", format: "registry", registry: true, encoder: func(t *testing.T, ctx context.Context, reg *harness.RegistryEnv, subject string) func(harness.Record) harness.Record {
		id := register(t, ctx, reg, subject, sr.Schema{Type: sr.TypeJSON, Schema: `{"type": "object"}`})
		return func(r harness.Record) harness.Record {
			return mapValue(r, func(v envelope) []byte { return frame(id, nil, v.raw) })
		}
	}},
}

// TestFormats runs one scenario in every record format: upserts with
// numeric and string ids, overwrites, tombstones and delete records, and a
// bad record; every format must leave the same points and dead-letter the
// bad record as validate. For the registry formats the replica starts
// while the registry cannot be reached (a proxy in front of it is cut):
// records are retried, nothing is committed or dead-lettered, and once the
// registry answers everything is applied.
func TestFormats(t *testing.T) {
	for _, fc := range formatCases {
		t.Run(fc.name, func(t *testing.T) {
			s := scenario(t, harness.ScenarioOptions{Partitions: 2, Dim: 4, DLQ: true})
			ctx := testContext(t, 4*time.Minute)
			cfg := s.Config()
			cfg.Set("record.format", fc.format)
			var reg *harness.RegistryEnv
			var proxy *tcpproxy.Proxy
			if fc.registry {
				var err error
				if reg, err = harness.SchemaRegistry(); err != nil {
					t.Fatal(err)
				}
				target, err := reg.HostPort()
				if err != nil {
					t.Fatal(err)
				}
				if proxy, err = tcpproxy.Listen(target); err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { _ = proxy.Close() })
				if err := reg.Configure(cfg, proxy.Addr()); err != nil {
					t.Fatal(err)
				}
				proxy.Cut()
			}
			encode := fc.encoder(t, ctx, reg, s.Topic+"-value")

			m := harness.NewModel()
			var recs []harness.Record
			recs = append(recs, upserts(m, 0, 40, 0)...)
			for i := 40; i < 50; i++ {
				recs = append(recs, m.Upsert(harness.StrID(fmt.Sprintf("doc-%d", i)), vec(i, 0), payload(i, 0)))
			}
			recs = append(recs, m.Delete(harness.NumID(3)), m.Delete(harness.StrID("doc-41")))
			recs = append(recs, deleteRecord(m, harness.NumID(5)), deleteRecord(m, harness.StrID("doc-47")))
			recs = append(recs, upserts(m, 0, 10, 1)...)
			recs = append(recs, harness.Record{Key: []byte("bad"), Value: []byte(`{"id": 999, "vector": []}`)})
			for i := range recs {
				recs[i] = encode(recs[i])
			}

			r := s.Start(ctx, "a", cfg)
			s.Produce(ctx, recs)
			if proxy != nil {
				waitMetric(t, ctx, r, `kafka_qdrant_retries_total{class="schema_registry"}`, 2)
				if msgs, err := harness.KcatConsumeAll(ctx, s.Env.Kafka.Brokers, s.DLQTopic); err != nil || len(msgs) != 0 {
					t.Fatalf("while the registry is unreachable the DLQ holds %d records (%v), want 0", len(msgs), err)
				}
				if got, err := harness.ReadPoints(ctx, s.Env.QdrantClient, s.Collection); err != nil || len(got) != 0 {
					t.Fatalf("while the registry is unreachable the collection holds %d points (%v), want 0", len(got), err)
				}
				proxy.Restore()
			}
			s.AssertFinal(ctx, m, 2*time.Minute)
			msgs, err := harness.KcatConsumeAll(ctx, s.Env.Kafka.Brokers, s.DLQTopic)
			if err != nil {
				t.Fatal(err)
			}
			if len(msgs) != 1 {
				t.Fatalf("DLQ holds %d records, want the bad one", len(msgs))
			}
			if class, _ := msgs[0].Header(hdrClass); class != "validate" || msgs[0].Key == nil || *msgs[0].Key != "bad" {
				t.Fatalf("DLQ record key %v class %q, want key bad, class validate", msgs[0].Key, class)
			}
		})
	}
}

// deleteRecord records a delete of id by a delete record (not a
// tombstone).
func deleteRecord(m *harness.Model, id harness.ID) harness.Record {
	r := m.Delete(id)
	idv, _ := json.Marshal(id.String())
	if _, err := fmt.Sscan(id.String(), new(uint64)); err == nil {
		idv = []byte(id.String())
	}
	r.Value = []byte(`{"id": ` + string(idv) + `, "delete": true}`)
	return r
}

// waitMetric waits until the replica's metric (a counter line's name
// with labels) reaches at least min.
func waitMetric(t *testing.T, ctx context.Context, r *harness.Replica, metric string, min float64) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		text, err := r.Metrics(ctx)
		if err == nil {
			for line := range strings.Lines(text) {
				var v float64
				if rest, ok := strings.CutPrefix(line, metric+" "); ok {
					if _, err := fmt.Sscan(rest, &v); err == nil && v >= min {
						return
					}
				}
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("metric %s did not reach %v: %v", metric, min, err)
		}
		select {
		case <-ctx.Done():
			t.Fatal(ctx.Err())
		case <-time.After(200 * time.Millisecond):
		}
	}
}

func register(t *testing.T, ctx context.Context, reg *harness.RegistryEnv, subject string, s sr.Schema) int {
	id, err := reg.Register(ctx, subject, s)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// frame puts a value in the Schema Registry wire format.
func frame(id int, index []int, value []byte) []byte {
	b, _ := new(sr.ConfluentHeader).AppendEncode(nil, id, index)
	return append(b, value...)
}

// envelope is a JSON envelope value read back for re-encoding.
type envelope struct {
	raw     []byte
	id      any // json.Number or string, nil when absent
	vector  []float32
	payload map[string]any
	delete  bool
}

func mapValue(r harness.Record, enc func(envelope) []byte) harness.Record {
	if r.Value == nil {
		return r // a tombstone is a tombstone in every format
	}
	var v struct {
		ID      any            `json:"id"`
		Vector  []float32      `json:"vector"`
		Payload map[string]any `json:"payload"`
		Delete  bool           `json:"delete"`
	}
	d := json.NewDecoder(bytes.NewReader(r.Value))
	d.UseNumber()
	if err := d.Decode(&v); err != nil {
		panic(err)
	}
	r.Value = enc(envelope{raw: r.Value, id: v.ID, vector: v.Vector, payload: v.Payload, delete: v.Delete})
	return r
}

func num(v any) int64 {
	n, err := v.(json.Number).Int64()
	if err != nil {
		panic(err)
	}
	return n
}

func float(v any) float64 {
	f, err := v.(json.Number).Float64()
	if err != nil {
		panic(err)
	}
	return f
}

func (v envelope) protobuf(t *testing.T) []byte {
	r := &recordpb.Record{Delete: v.delete}
	switch id := v.id.(type) {
	case json.Number:
		r.Id = &recordpb.Record_Num{Num: uint64(num(id))}
	case string:
		r.Id = &recordpb.Record_Text{Text: id}
	}
	if v.vector != nil {
		r.Vector = &recordpb.Record_Dense{Dense: &recordpb.DenseVector{Data: v.vector}}
	}
	if v.payload != nil {
		r.Payload = map[string]*recordpb.Value{}
		for k, x := range v.payload {
			r.Payload[k] = pbValue(x)
		}
	}
	b, err := proto.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func pbValue(x any) *recordpb.Value {
	switch x := x.(type) {
	case json.Number:
		if i, err := x.Int64(); err == nil {
			return &recordpb.Value{Kind: &recordpb.Value_IntegerValue{IntegerValue: i}}
		}
		return &recordpb.Value{Kind: &recordpb.Value_DoubleValue{DoubleValue: float(x)}}
	case string:
		return &recordpb.Value{Kind: &recordpb.Value_StringValue{StringValue: x}}
	case bool:
		return &recordpb.Value{Kind: &recordpb.Value_BoolValue{BoolValue: x}}
	case []any:
		l := &recordpb.ListValue{}
		for _, e := range x {
			l.Values = append(l.Values, pbValue(e))
		}
		return &recordpb.Value{Kind: &recordpb.Value_ListValue{ListValue: l}}
	case map[string]any:
		s := &recordpb.Struct{Fields: map[string]*recordpb.Value{}}
		for k, e := range x {
			s.Fields[k] = pbValue(e)
		}
		return &recordpb.Value{Kind: &recordpb.Value_StructValue{StructValue: s}}
	}
	return &recordpb.Value{}
}

func (v envelope) avro(t *testing.T, schema avro.Schema) []byte {
	m := map[string]any{"id": nil, "vector": nil, "payload": nil, "delete": v.delete}
	switch id := v.id.(type) {
	case json.Number:
		m["id"] = map[string]any{"long": num(id)}
	case string:
		m["id"] = map[string]any{"string": id}
	}
	if v.vector != nil {
		m["vector"] = map[string]any{"array": v.vector}
	}
	if p := v.payload; p != nil {
		nested := p["nested"].(map[string]any)
		tags := []string{}
		for _, s := range nested["tags"].([]any) {
			tags = append(tags, s.(string))
		}
		m["payload"] = map[string]any{"e2e.Payload": map[string]any{
			"i": num(p["i"]), "ver": num(p["ver"]), "score": float(p["score"]), "title": p["title"], "even": p["even"],
			"nested": map[string]any{"bucket": num(nested["bucket"]), "tags": tags},
		}}
	}
	b, err := avro.Marshal(schema, m)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func (v envelope) userProto(t *testing.T, md protoreflect.MessageDescriptor) []byte {
	m := dynamicpb.NewMessage(md)
	f := md.Fields().ByName
	switch id := v.id.(type) {
	case json.Number:
		m.Set(f("num"), protoreflect.ValueOfUint64(uint64(num(id))))
	case string:
		m.Set(f("text"), protoreflect.ValueOfString(id))
	}
	l := m.Mutable(f("vector")).List()
	for _, x := range v.vector {
		l.Append(protoreflect.ValueOfFloat32(x))
	}
	if p := v.payload; p != nil {
		pm := m.Mutable(f("payload")).Message()
		pf := pm.Descriptor().Fields().ByName
		pm.Set(pf("i"), protoreflect.ValueOfInt64(num(p["i"])))
		pm.Set(pf("ver"), protoreflect.ValueOfInt64(num(p["ver"])))
		pm.Set(pf("score"), protoreflect.ValueOfFloat64(float(p["score"])))
		pm.Set(pf("title"), protoreflect.ValueOfString(p["title"].(string)))
		pm.Set(pf("even"), protoreflect.ValueOfBool(p["even"].(bool)))
		nested := p["nested"].(map[string]any)
		nm := pm.Mutable(pf("nested")).Message()
		nm.Set(nm.Descriptor().Fields().ByName("bucket"), protoreflect.ValueOfInt64(num(nested["bucket"])))
		tags := nm.Mutable(nm.Descriptor().Fields().ByName("tags")).List()
		for _, s := range nested["tags"].([]any) {
			tags.Append(protoreflect.ValueOfString(s.(string)))
		}
	}
	if v.delete {
		m.Set(f("delete"), protoreflect.ValueOfBool(true))
	}
	b, err := proto.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
