package sink_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hamba/avro/v2"
	"github.com/qdrant/go-client/qdrant"
	"github.com/twmb/franz-go/pkg/sr"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/proto"

	"github.com/seed-a550a1ef/kafka-qdrant/schemas"
	"github.com/seed-a550a1ef/kafka-qdrant/schemas/recordpb"
	"github.com/seed-a550a1ef/kafka-qdrant/sink"
)

// BenchmarkRecordPath is the CPU a replica spends on one record between
// Kafka and the socket: decode (schemas.FormatDecoder) → Check → Write
// (merge, cut, request build, and the encoding of the UpdateBatch request
// by the codec the writer hands gRPC), for batches of 512 distinct dim-128
// records with a 3-field payload, in each format. Qdrant answers at once
// (recordPathPoints). cpu-ns/record is the process's CPU per record (the
// garbage collector's included, unlike ns/op robust to a busy machine);
// ns/op and allocs/op are per batch. Compare trees with
//
//	go test -run '^$' -bench RecordPath -count 8 ./sink > path.txt; benchstat path.txt
func BenchmarkRecordPath(b *testing.B) {
	const batch, dim = 512, 128
	for _, f := range []string{"json", "protobuf", "registry_avro"} {
		b.Run(f, func(b *testing.B) {
			values := recordPathValues(b, f, batch, dim)
			format, ok := map[string]schemas.Format{"json": schemas.FormatJSON, "protobuf": schemas.FormatProtobuf}[f]
			var cache *schemas.SchemaCache
			if !ok {
				format = schemas.FormatRegistry
				cache = schemas.NewSchemaCache(recordPathRegistry{}, schemas.DecoderConfig{})
			}
			dec := schemas.NewFormatDecoder(format, schemas.DecoderConfig{}, cache)
			cols := recordPathCollections{info: &qdrant.CollectionInfo{Config: &qdrant.CollectionConfig{Params: &qdrant.CollectionParams{
				VectorsConfig: qdrant.NewVectorsConfig(&qdrant.VectorParams{Size: dim, Distance: qdrant.Distance_Cosine}),
			}}}}
			w := sink.NewWriter(recordPathPoints{}, cols, sink.WriterConfig{})
			ctx := context.Background()
			recs := make([]schemas.Record, batch)
			ops := make([]sink.Op, batch)
			run := func() {
				for i, v := range values {
					rec, err := dec.Decode(ctx, v.key, v.value)
					if err != nil {
						b.Fatal(err)
					}
					recs[i] = rec
					if err := w.Check(ctx, "bench", &recs[i]); err != nil {
						b.Fatal(err)
					}
					ops[i] = sink.Op{Record: &recs[i], Offset: int64(i), Ref: i}
				}
				if rejected, err := w.Write(ctx, "bench", ops); err != nil || len(rejected) > 0 {
					b.Fatalf("Write = %v, %v", rejected, err)
				}
				clear(recs)
			}
			run()
			b.ReportAllocs()
			cpu := processCPU()
			for b.Loop() {
				run()
			}
			n := float64(b.N * batch)
			b.ReportMetric(n/b.Elapsed().Seconds(), "records/s")
			if cpu > 0 {
				b.ReportMetric(float64(processCPU()-cpu)/n, "cpu-ns/record")
			}
		})
	}
}

type keyValue struct{ key, value []byte }

// recordPathAvro is the producer's Avro schema of the benchmark's records
// (registry id 1).
const recordPathAvro = `{"type": "record", "name": "Doc", "fields": [
  {"name": "id", "type": "long"},
  {"name": "vector", "type": {"type": "array", "items": "float"}},
  {"name": "payload", "type": {"type": "record", "name": "Info", "fields": [
    {"name": "title", "type": "string"}, {"name": "year", "type": "long"},
    {"name": "tags", "type": {"type": "array", "items": "string"}}]}}]}`

// recordPathValues are n records (ids 0..n-1, a dim vector of typical
// embedding values, payload {"title", "year", "tags"}) in format f.
func recordPathValues(tb testing.TB, f string, n, dim int) []keyValue {
	rng := rand.New(rand.NewPCG(1, 2))
	schema := avro.MustParse(recordPathAvro)
	out := make([]keyValue, n)
	for i := range out {
		vec := make([]float32, dim)
		for j := range vec {
			vec[j] = float32(rng.NormFloat64() * 0.1)
		}
		title, year, tags := "doc "+strconv.Itoa(i), int64(1970+i%50), []string{"a", "b"}
		var v []byte
		switch f {
		case "json":
			var s strings.Builder
			fmt.Fprintf(&s, `{"id":%d,"vector":[`, i)
			for j, x := range vec {
				if j > 0 {
					s.WriteByte(',')
				}
				s.WriteString(strconv.FormatFloat(float64(x), 'g', -1, 32))
			}
			fmt.Fprintf(&s, `],"payload":{"title":%q,"year":%d,"tags":["a","b"]}}`, title, year)
			v = []byte(s.String())
		case "protobuf":
			str := func(s string) *recordpb.Value {
				return &recordpb.Value{Kind: &recordpb.Value_StringValue{StringValue: s}}
			}
			var err error
			v, err = proto.Marshal(&recordpb.Record{
				Id:     &recordpb.Record_Num{Num: uint64(i)},
				Vector: &recordpb.Record_Dense{Dense: &recordpb.DenseVector{Data: vec}},
				Payload: map[string]*recordpb.Value{
					"title": str(title),
					"year":  {Kind: &recordpb.Value_IntegerValue{IntegerValue: year}},
					"tags":  {Kind: &recordpb.Value_ListValue{ListValue: &recordpb.ListValue{Values: []*recordpb.Value{str(tags[0]), str(tags[1])}}}},
				},
			})
			if err != nil {
				tb.Fatal(err)
			}
		case "registry_avro":
			a, err := avro.Marshal(schema, map[string]any{"id": int64(i), "vector": vec,
				"payload": map[string]any{"title": title, "year": year, "tags": tags}})
			if err != nil {
				tb.Fatal(err)
			}
			v, _ = new(sr.ConfluentHeader).AppendEncode(nil, 1, nil)
			v = append(v, a...)
		}
		out[i] = keyValue{key: []byte(strconv.Itoa(i)), value: v}
	}
	return out
}

type recordPathRegistry struct{}

func (recordPathRegistry) SchemaByID(_ context.Context, id int) (schemas.RegisteredSchema, error) {
	if id != 1 {
		return schemas.RegisteredSchema{}, fmt.Errorf("schema %d: %w", id, schemas.ErrSchemaNotFound)
	}
	return schemas.RegisteredSchema{Type: schemas.SchemaAvro, Schema: recordPathAvro}, nil
}

// recordPathPoints answers every UpdateBatch at once, after encoding the
// request with the codec the writer passes (grpc.ForceCodecV2), as gRPC
// would before sending it.
type recordPathPoints struct{}

func (recordPathPoints) UpdateBatch(_ context.Context, req *qdrant.UpdateBatchPoints, opts ...grpc.CallOption) (*qdrant.UpdateBatchResponse, error) {
	encoded := false
	for _, o := range opts {
		if c, ok := o.(grpc.ForceCodecV2CallOption); ok {
			data, err := c.CodecV2.Marshal(req)
			if err != nil {
				return nil, err
			}
			data.Free()
			encoded = true
		}
	}
	if !encoded {
		return nil, fmt.Errorf("the writer passed no codec")
	}
	resp := &qdrant.UpdateBatchResponse{Result: make([]*qdrant.UpdateResult, len(req.Operations))}
	for i := range resp.Result {
		resp.Result[i] = &qdrant.UpdateResult{Status: qdrant.UpdateStatus_Completed}
	}
	return resp, nil
}

func (recordPathPoints) Get(context.Context, *qdrant.GetPoints, ...grpc.CallOption) (*qdrant.GetResponse, error) {
	return nil, fmt.Errorf("not used")
}

func (recordPathPoints) CreateFieldIndex(context.Context, *qdrant.CreateFieldIndexCollection, ...grpc.CallOption) (*qdrant.PointsOperationResponse, error) {
	return nil, fmt.Errorf("not used")
}

type recordPathCollections struct{ info *qdrant.CollectionInfo }

func (c recordPathCollections) Get(context.Context, *qdrant.GetCollectionInfoRequest, ...grpc.CallOption) (*qdrant.GetCollectionInfoResponse, error) {
	return &qdrant.GetCollectionInfoResponse{Result: c.info}, nil
}

// processCPU is the CPU time (user and system) the process used so far.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
