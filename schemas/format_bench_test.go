package schemas

import (
	"context"
	"math/rand/v2"
	"testing"

	"github.com/hamba/avro/v2"
	"github.com/qdrant/go-client/qdrant"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/dynamicpb"

	"github.com/seed-a550a1ef/kafka-qdrant/schemas/recordpb"
)

// benchVector is the dim-128 vector of the format benchmarks, the values of
// denseRecord(128).
func benchVector() []float32 {
	r := rand.New(rand.NewPCG(1, 2))
	v := make([]float32, 128)
	for i := range v {
		v[i] = float32(r.NormFloat64() * 0.1)
	}
	return v
}

// benchRecord is denseRecord(128) as record.v1.
func benchRecord() *recordpb.Record {
	str := func(s string) *recordpb.Value {
		return &recordpb.Value{Kind: &recordpb.Value_StringValue{StringValue: s}}
	}
	return &recordpb.Record{
		Id:     &recordpb.Record_Num{Num: 123456},
		Vector: &recordpb.Record_Dense{Dense: &recordpb.DenseVector{Data: benchVector()}},
		Payload: map[string]*recordpb.Value{
			"title":  str("Alien"),
			"year":   {Kind: &recordpb.Value_IntegerValue{IntegerValue: 1979}},
			"genres": str("sci-fi"),
		},
	}
}

// Schemas of the registry benchmarks: the same record as a producer's own
// Avro and Protobuf types.
const (
	benchAvroSchema = `{"type": "record", "name": "Movie", "fields": [
  {"name": "id", "type": "long"},
  {"name": "vector", "type": {"type": "array", "items": "float"}},
  {"name": "payload", "type": {"type": "record", "name": "Info", "fields": [
    {"name": "title", "type": "string"}, {"name": "year", "type": "long"}, {"name": "genres", "type": "string"}]}}]}`
	benchProtoSchema = `syntax = "proto3";
package bench;
message Info { string title = 1; int64 year = 2; string genres = 3; }
message Movie { uint64 id = 1; repeated float vector = 2; Info payload = 3; }`
	benchIDAvro  = 1
	benchIDProto = 2
	benchIDV1    = 3
	benchIDJSON  = 4
)

func benchRegistry(t testing.TB) corpusRegistry {
	v1 := newCorpusRegistry(t)[idV1]
	return corpusRegistry{
		benchIDAvro:  {Type: SchemaAvro, Schema: benchAvroSchema},
		benchIDProto: {Type: SchemaProtobuf, Schema: benchProtoSchema},
		benchIDV1:    v1,
		benchIDJSON:  {Type: SchemaJSON, Schema: `{"type": "object"}`},
	}
}

// benchValues encodes the benchmark record in each format.
func benchValues(t testing.TB) map[string][]byte {
	rec := benchRecord()
	v1, err := proto.Marshal(rec)
	if err != nil {
		t.Fatal(err)
	}
	as := avro.MustParse(benchAvroSchema)
	av, err := avro.Marshal(as, map[string]any{
		"id": int64(123456), "vector": benchVector(),
		"payload": map[string]any{"title": "Alien", "year": int64(1979), "genres": "sci-fi"},
	})
	if err != nil {
		t.Fatal(err)
	}
	fd, err := parseProto(benchIDProto, RegisteredSchema{Type: SchemaProtobuf, Schema: benchProtoSchema})
	if err != nil {
		t.Fatal(err)
	}
	// The Movie message by hand: id, packed vector, payload.
	movie := protoMovie(t, fd)
	return map[string][]byte{
		"json":              denseRecord(128),
		"protobuf":          v1,
		"registry_avro":     frame(benchIDAvro, nil, av),
		"registry_protobuf": frame(benchIDProto, []int{1}, movie),
		"registry_v1":       frame(benchIDV1, []int{0}, v1),
		"registry_json":     frame(benchIDJSON, nil, denseRecord(128)),
	}
}

// BenchmarkDecodeFormats is the per-record CPU of decoding the same record
// (dim-128 dense vector, three-field payload) in each format, into the
// Record the writer sends. Compare with BenchmarkDecode/dense128_payload3
// (the JSON decoder alone).
func BenchmarkDecodeFormats(b *testing.B) {
	values := benchValues(b)
	cache := NewSchemaCache(benchRegistry(b), DecoderConfig{})
	formats := map[string]Format{"json": FormatJSON, "protobuf": FormatProtobuf}
	key := []byte("123456")
	for _, name := range []string{"json", "protobuf", "registry_avro", "registry_protobuf", "registry_v1", "registry_json"} {
		b.Run(name, func(b *testing.B) {
			f, ok := formats[name]
			if !ok {
				f = FormatRegistry
			}
			d := NewFormatDecoder(f, DecoderConfig{}, cache)
			ctx := context.Background()
			value := values[name]
			if _, err := d.Decode(ctx, key, value); err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			b.SetBytes(int64(len(key) + len(value)))
			cpu := processCPU()
			for b.Loop() {
				if _, err := d.Decode(ctx, key, value); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "records/s")
			if cpu > 0 {
				// CPU of the whole process (decode and its GC) per
				// record: unlike ns/op, not inflated by a busy machine.
				b.ReportMetric(float64(processCPU()-cpu)/float64(b.N), "cpu-ns/record")
			}
		})
	}
}

// BenchmarkDecodeLibraries decodes the same values with the libraries'
// generic decoders (protobuf-go into the generated record.v1 types, then a
// copy into the Qdrant types; hamba/avro into map[string]any), the
// alternative to reading the wire bytes straight into the Qdrant types.
func BenchmarkDecodeLibraries(b *testing.B) {
	values := benchValues(b)
	b.Run("protobuf_generated", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			var rec recordpb.Record
			if err := proto.Unmarshal(values["protobuf"], &rec); err != nil {
				b.Fatal(err)
			}
			_ = generatedToQdrant(&rec)
		}
	})
	b.Run("avro_generic", func(b *testing.B) {
		as := avro.MustParse(benchAvroSchema)
		b.ReportAllocs()
		for b.Loop() {
			var v map[string]any
			if err := avro.Unmarshal(as, values["registry_avro"][5:], &v); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// generatedToQdrant converts an unmarshalled record.v1 dense record with a
// flat payload into the Qdrant types (the benchmark's shape only).
func generatedToQdrant(rec *recordpb.Record) Record {
	out := Record{Op: OpUpsert, ID: qdrant.NewIDNum(rec.GetNum())}
	out.Vectors = qdrant.NewVectorsDense(rec.GetDense().GetData())
	m := make(map[string]*qdrant.Value, len(rec.Payload))
	for k, v := range rec.Payload {
		switch x := v.Kind.(type) {
		case *recordpb.Value_StringValue:
			m[k] = qdrant.NewValueString(x.StringValue)
		case *recordpb.Value_IntegerValue:
			m[k] = qdrant.NewValueInt(x.IntegerValue)
		case *recordpb.Value_DoubleValue:
			m[k] = qdrant.NewValueDouble(x.DoubleValue)
		}
	}
	out.Payload, _ = EncodePayload(m)
	return out
}

// protoMovie is the benchmark record as bench.Movie.
func protoMovie(t testing.TB, fd protoreflect.FileDescriptor) []byte {
	md := fd.Messages().ByName("Movie")
	m := dynamicpb.NewMessage(md)
	m.Set(md.Fields().ByName("id"), protoreflect.ValueOfUint64(123456))
	l := m.Mutable(md.Fields().ByName("vector")).List()
	for _, x := range benchVector() {
		l.Append(protoreflect.ValueOfFloat32(x))
	}
	p := m.Mutable(md.Fields().ByName("payload")).Message()
	pf := p.Descriptor().Fields().ByName
	p.Set(pf("title"), protoreflect.ValueOfString("Alien"))
	p.Set(pf("year"), protoreflect.ValueOfInt64(1979))
	p.Set(pf("genres"), protoreflect.ValueOfString("sci-fi"))
	b, err := proto.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
