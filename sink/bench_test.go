package sink

import (
	"context"
	"math/rand/v2"
	"testing"

	"github.com/qdrant/go-client/qdrant"
	"google.golang.org/grpc/metadata"

	"github.com/seed-a550a1ef/kafka-qdrant/internal/qdrantmem"
	"github.com/seed-a550a1ef/kafka-qdrant/schemas"
)

// BenchmarkWrite writes batches of 512 upserts of dim 128 (with a small
// payload) to qdrantmem over loopback gRPC: merge, request build, one
// UpdateBatch with wait=true (with fencing: 512 conditional operations and
// the read-back Get). The server's own work is included; calls/batch
// counts UpdateBatch and Get calls.
func BenchmarkWrite(b *testing.B) {
	for _, bc := range []struct {
		name    string
		fencing bool
	}{{"plain", false}, {"fencing", true}} {
		b.Run(bc.name, func(b *testing.B) {
			const batch, dim = 512, 128
			m := startMem(b, WriterConfig{Fencing: bc.fencing})
			m.create(b, "bench", dim)
			rng := rand.New(rand.NewPCG(1, 2))
			ops := make([]Op, batch)
			for i := range ops {
				v := make([]float32, dim)
				for j := range v {
					v[j] = rng.Float32()
				}
				ops[i] = Op{Record: &schemas.Record{
					Op: schemas.OpUpsert, ID: qdrant.NewIDNum(uint64(i)), Vectors: qdrant.NewVectorsDense(v),
					Payload: payloadOf(map[string]any{"title": "Alien", "year": int64(1979)}),
				}, Offset: int64(i)}
			}
			ctx := context.Background()
			if err := m.w.Check(ctx, "bench", ops[0].Record); err != nil { // as the connector does
				b.Fatal(err)
			}
			calls := func() int {
				return m.srv.CallCount(qdrantmem.MethodUpdateBatch) + m.srv.CallCount(qdrantmem.MethodGet)
			}
			before := calls()
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				if rejected, err := m.w.Write(ctx, "bench", ops); err != nil || len(rejected) != 0 {
					b.Fatalf("Write = %v, %v", rejected, err)
				}
			}
			b.ReportMetric(float64(batch*b.N)/b.Elapsed().Seconds(), "records/s")
			b.ReportMetric(float64(calls()-before)/float64(b.N), "calls/batch")
		})
	}
}

// BenchmarkWriteOverhead is the writer's own cost per 512-op batch (merge,
// request build, bookkeeping) against a fake that answers at once: what
// BenchmarkWrite spends outside gRPC and the server.
func BenchmarkWriteOverhead(b *testing.B) {
	fp := &fakePoints{fn: func(_ context.Context, req *qdrant.UpdateBatchPoints, _ int, _ *metadata.MD) (*qdrant.UpdateBatchResponse, error) {
		return completed(req), nil
	}}
	w := NewWriter(fp, newFakeCollections(), WriterConfig{})
	ops := make([]Op, 512)
	for i := range ops {
		ops[i] = Op{Record: upsertRec(uint64(i), 128), Offset: int64(i)}
	}
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		fp.calls = fp.calls[:0]
		if _, err := w.Write(ctx, "c", ops); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(len(ops)*b.N)/b.Elapsed().Seconds(), "records/s")
}

// BenchmarkCheck measures validating one dense record against a cached
// collection config (the per-record hot path).
func BenchmarkCheck(b *testing.B) {
	cols := newFakeCollections()
	cols.set("c", infoDense(128))
	w := NewWriter(&fakePoints{}, cols, WriterConfig{})
	r := &schemas.Record{Op: schemas.OpUpsert, ID: qdrant.NewIDNum(1), Vectors: qdrant.NewVectorsDense(make([]float32, 128))}
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if err := w.Check(ctx, "c", r); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCut is what sizing a 512-op batch against max_request_bytes
// adds to each Write (one size pass over every point; the batch fits).
func BenchmarkCut(b *testing.B) {
	w := NewWriter(&fakePoints{}, newFakeCollections(), WriterConfig{})
	ops := make([]Op, 512)
	batch := make([]int, len(ops))
	for i := range ops {
		ops[i] = Op{Record: upsertRec(uint64(i), 128), Offset: int64(i)}
		batch[i] = i
	}
	b.ReportAllocs()
	for b.Loop() {
		if parts := w.cut("c", ops, batch, limits{}); parts != nil {
			b.Fatal("a 512-op batch was cut")
		}
	}
}
