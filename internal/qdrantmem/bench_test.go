package qdrantmem

import (
	"testing"

	"github.com/qdrant/go-client/qdrant"
)

// BenchmarkUpdateBatch measures one UpdateBatch of 512 points with 128-dim
// vectors and a small payload over loopback through the go-client, the
// connector's write path. Points are overwritten each round, so the store
// stays at 512 points. Reports points/s.
func BenchmarkUpdateBatch(b *testing.B) {
	for _, d := range []qdrant.Distance{qdrant.Distance_Dot, qdrant.Distance_Cosine} {
		b.Run(d.String(), func(b *testing.B) {
			e := newEnv(b)
			e.createDense(b, "bench", 128, d)
			const n = 512
			pts := make([]*qdrant.PointStruct, n)
			for i := range pts {
				v := make([]float32, 128)
				for j := range v {
					v[j] = float32((i+j)%17) / 17
				}
				pts[i] = &qdrant.PointStruct{
					Id:      qdrant.NewIDNum(uint64(i)),
					Vectors: qdrant.NewVectorsDense(v),
					Payload: qdrant.NewValueMap(map[string]any{"offset": i, "topic": "vectors", "partition": 3}),
				}
			}
			req := &qdrant.UpdateBatchPoints{CollectionName: "bench", Wait: qdrant.PtrOf(true), Operations: []*qdrant.PointsUpdateOperation{
				qdrant.NewPointsUpdateUpsert(&qdrant.PointsUpdateOperation_PointStructList{Points: pts}),
			}}
			ctx := ctxT(b)
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				if _, err := e.c.UpdateBatch(ctx, req); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "points/s")
			if got := e.count(b, "bench", nil); got != n {
				b.Fatalf("count = %d", got)
			}
		})
	}
}

// BenchmarkApplyUpsert measures the server's own share of that write: the
// conversion, validation and storing of 512 points, without gRPC.
func BenchmarkApplyUpsert(b *testing.B) {
	s := New()
	s.collections["bench"] = newCollection("bench", s.opts.clock.Now())
	schema, err := newVectorsSchema(qdrant.NewVectorsConfig(&qdrant.VectorParams{Size: 128, Distance: qdrant.Distance_Dot}), nil)
	if err != nil {
		b.Fatal(err)
	}
	s.collections["bench"].schema = schema
	pts := make([]*qdrant.PointStruct, 512)
	for i := range pts {
		pts[i] = &qdrant.PointStruct{Id: qdrant.NewIDNum(uint64(i)), Vectors: qdrant.NewVectorsDense(make([]float32, 128)),
			Payload: qdrant.NewValueMap(map[string]any{"offset": i})}
	}
	b.ReportAllocs()
	for range b.N {
		s.mu.Lock()
		if _, err := s.upsert(upsertOp{collection: "bench", points: pts, wait: true}); err != nil {
			b.Fatal(err)
		}
		s.mu.Unlock()
	}
	b.ReportMetric(float64(512*b.N)/b.Elapsed().Seconds(), "points/s")
}
