package sink

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/qdrant/go-client/qdrant"
	"google.golang.org/grpc/encoding"
	"google.golang.org/protobuf/proto"
)

// benchRequest is the writer's plain UpdateBatch for n upserts of dim
// floats with a 3-field payload {"title", "year", "tags"}.
func benchRequest(n, dim int) *qdrant.UpdateBatchPoints {
	rng := rand.New(rand.NewPCG(1, 2))
	points := make([]*qdrant.PointStruct, n)
	for i := range points {
		v := make([]float32, dim)
		for j := range v {
			v[j] = rng.Float32()
		}
		points[i] = &qdrant.PointStruct{
			Id:      qdrant.NewIDNum(uint64(i)),
			Vectors: qdrant.NewVectorsDense(v),
			Payload: qdrant.NewValueMap(map[string]any{"title": fmt.Sprintf("doc %d", i), "year": int64(1971), "tags": []any{"a", "b"}}),
		}
	}
	wait, timeout := true, uint64(30)
	return &qdrant.UpdateBatchPoints{CollectionName: "bench", Wait: &wait, Timeout: &timeout, Operations: []*qdrant.PointsUpdateOperation{
		qdrant.NewPointsUpdateUpsert(&qdrant.PointsUpdateOperation_PointStructList{Points: points}),
	}}
}

// BenchmarkEncodeUpdateBatch encodes a 512-point, dim-128 request with
// protobuf-go (enc=proto) and the generated encoder (enc=wire), once
// into a reused buffer (append: proto.MarshalOptions.MarshalAppend vs
// appendUpdateBatch) and once through the gRPC codec with gRPC's buffer
// pool (codec: the standard proto codec vs updateBatchCodec). Compare with
//
//	go test -run '^$' -bench EncodeUpdateBatch -count 8 ./sink > enc.txt
//	benchstat -col /enc enc.txt
func BenchmarkEncodeUpdateBatch(b *testing.B) {
	req := benchRequest(512, 128)
	size := int64(proto.Size(req))
	appenders := []struct {
		name string
		fn   func([]byte, *qdrant.UpdateBatchPoints) ([]byte, error)
	}{
		{"enc=proto", func(dst []byte, req *qdrant.UpdateBatchPoints) ([]byte, error) {
			return proto.MarshalOptions{}.MarshalAppend(dst, req)
		}},
		{"enc=wire", appendUpdateBatch},
	}
	for _, a := range appenders {
		b.Run("append/"+a.name, func(b *testing.B) {
			buf := make([]byte, 0, size)
			b.SetBytes(size)
			b.ReportAllocs()
			for b.Loop() {
				var err error
				if buf, err = a.fn(buf[:0], req); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	codecs := []struct {
		name  string
		codec encoding.CodecV2
	}{{"enc=proto", protoCodec}, {"enc=wire", updateBatchCodec{}}}
	for _, c := range codecs {
		b.Run("codec/"+c.name, func(b *testing.B) {
			b.SetBytes(size)
			b.ReportAllocs()
			for b.Loop() {
				data, err := c.codec.Marshal(req)
				if err != nil {
					b.Fatal(err)
				}
				data.Free()
			}
		})
	}
}

// payloadHeavyRequest is an UpdateBatch of n upserts of dim-8 vectors whose
// payload dominates: 16 top-level keys of every value kind, a nested
// struct and a list of structs (about 0.6 KiB of payload per point).
func payloadHeavyRequest(n int) *qdrant.UpdateBatchPoints {
	rng := rand.New(rand.NewPCG(3, 4))
	points := make([]*qdrant.PointStruct, n)
	for i := range points {
		v := make([]float32, 8)
		for j := range v {
			v[j] = rng.Float32()
		}
		tags := make([]any, 6)
		for j := range tags {
			tags[j] = fmt.Sprintf("tag-%d", rng.IntN(1000))
		}
		points[i] = &qdrant.PointStruct{
			Id:      qdrant.NewID(fmt.Sprintf("5c56c793-69f3-4fbf-87e6-%012x", i)),
			Vectors: qdrant.NewVectorsDense(v),
			Payload: qdrant.NewValueMap(map[string]any{
				"title": fmt.Sprintf("document number %d", i), "body": "lorem ipsum dolor sit amet, consectetur adipiscing elit",
				"year": int64(1900 + rng.IntN(125)), "score": rng.Float64(), "views": int64(rng.IntN(1 << 30)),
				"published": rng.IntN(2) == 0, "deleted": false, "lang": "en", "author": "someone",
				"category": "science", "source": "kafka", "rating": 4.5, "draft": nil, "tags": tags,
				"meta":  map[string]any{"created": "2026-01-02T03:04:05Z", "rev": int64(i), "editor": map[string]any{"name": "x", "id": int64(7)}},
				"links": []any{map[string]any{"href": "https://example.com/a", "rel": "self"}, map[string]any{"href": "https://example.com/b", "rel": "next"}},
			}),
		}
	}
	wait := true
	return &qdrant.UpdateBatchPoints{CollectionName: "bench", Wait: &wait, Operations: []*qdrant.PointsUpdateOperation{
		qdrant.NewPointsUpdateUpsert(&qdrant.PointsUpdateOperation_PointStructList{Points: points}),
	}}
}

// BenchmarkWire is the UpdateBatch encoder alone on two 512-point
// requests: the writer's usual shape (shape=dense128: dim-128 vector and a
// 3-field payload) and a payload-heavy one (shape=payload: dim 8, 16
// payload keys with nested structs and lists). op=size is the size pass
// (what request splitting calls), op=append the whole encoding into a
// reused buffer. Instructions per point, which the machine's load does not
// change: run the binary under callgrind for two iteration counts and
// divide the difference by the extra points (set-up cancels out). Go needs
// GODEBUG=asyncpreemptoff=1 under valgrind (its preemption signals crash
// callgrind); GOGC=off and GOMAXPROCS=1 keep the counts repeatable;
// --toggle-collect does not work (it loses track when a goroutine's stack
// grows).
//
//	go test -c -o /tmp/sink.test ./sink
//	for n in 50 350; do GOGC=off GOMAXPROCS=1 GODEBUG=asyncpreemptoff=1 \
//	  valgrind --tool=callgrind --callgrind-out-file=/tmp/cg.$n /tmp/sink.test \
//	  -test.run '^$' -test.bench 'BenchmarkWire$/^shape=dense128$/^op=append$' -test.benchtime ${n}x; done
//	# instructions a point: (totals of cg.350 - totals of cg.50) / (300*512)
func BenchmarkWire(b *testing.B) {
	shapes := []struct {
		name string
		req  *qdrant.UpdateBatchPoints
	}{{"dense128", benchRequest(512, 128)}, {"payload", payloadHeavyRequest(512)}}
	for _, s := range shapes {
		size := int64(proto.Size(s.req))
		b.Run("shape="+s.name+"/op=size", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if sizeUpdateBatch(s.req) != int(size) {
					b.Fatal("size differs from proto.Size")
				}
			}
			b.ReportMetric(b.Elapsed().Seconds()*1e9/float64(b.N*512), "ns/point")
		})
		b.Run("shape="+s.name+"/op=append", func(b *testing.B) {
			buf := make([]byte, 0, size)
			b.SetBytes(size)
			b.ReportAllocs()
			for b.Loop() {
				var err error
				if buf, err = appendUpdateBatch(buf[:0], s.req); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(b.Elapsed().Seconds()*1e9/float64(b.N*512), "ns/point")
		})
	}
}
