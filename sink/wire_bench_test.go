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
// protobuf-go (enc=proto) and the hand-written encoder (enc=wire), once
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
