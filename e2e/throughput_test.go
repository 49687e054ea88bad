package e2e

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/qdrant/go-client/qdrant"

	"github.com/seed-a550a1ef/kafka-qdrant/e2e/internal/harness"
)

// BenchmarkReplicaThroughput measures one replica process end to end on the
// environment's servers: N records (dimension 128, a 3-field payload) are
// already in a 4-partition topic; the clock runs from the process start
// until every offset is committed (so it includes start-up and the group
// join; steady-records/s counts from the first commit, startup-s is the
// time to it). KQ_E2E_BENCH_RECORDS sets N (default 200k). Run with
//
//	KAFKA=real E2E_BENCH=ReplicaThroughput ./scripts/e2e.sh
func BenchmarkReplicaThroughput(b *testing.B) {
	n := benchSize(b, "KQ_E2E_BENCH_RECORDS", 200_000)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
	defer cancel()
	for range b.N {
		b.StopTimer()
		s := env.NewScenario(b, harness.ScenarioOptions{Partitions: 4, Dim: 128})
		m := harness.NewModel()
		v := make([]float32, 128)
		for lo := 0; lo < n; lo += 10_000 {
			recs := make([]harness.Record, 0, 10_000)
			for i := lo; i < min(lo+10_000, n); i++ {
				for j := range v {
					v[j] = float32((i*31+j*7)%1000)/997 + 0.001
				}
				recs = append(recs, m.Upsert(harness.NumID(uint64(i)), v,
					map[string]any{"title": "doc " + strconv.Itoa(i), "year": 1970 + i%50, "tags": []string{"a", "b"}}))
			}
			s.Produce(ctx, recs)
		}
		b.StartTimer()
		start := time.Now()
		r := s.Launch("bench", nil)
		// Poll the commits: the first one marks the end of start-up and
		// the group join, so the steady rate is measured from there.
		var firstAt time.Time
		var firstCount int64
		for {
			c, err := harness.CommittedOffsets(ctx, s.Env.Admin, s.Group, s.Topic)
			if total := c.Total(); err == nil && total > 0 {
				if firstAt.IsZero() {
					firstAt, firstCount = time.Now(), total
				}
				if total == int64(n) {
					break
				}
			}
			if ctx.Err() != nil {
				b.Fatal("the replica did not commit every record in time")
			}
			time.Sleep(20 * time.Millisecond)
		}
		took := time.Since(start)
		b.StopTimer()
		b.ReportMetric(float64(n)/took.Seconds(), "records/s")
		if steady := time.Since(firstAt); steady > 0 && int64(n) > firstCount {
			b.ReportMetric(float64(int64(n)-firstCount)/steady.Seconds(), "steady-records/s")
		}
		b.ReportMetric(firstAt.Sub(start).Seconds(), "startup-s")
		count, err := s.Env.QdrantClient.Count(ctx, &qdrant.CountPoints{CollectionName: s.Collection, Exact: qdrant.PtrOf(true)})
		if err != nil || count != uint64(n) {
			b.Fatalf("collection holds %d points (err %v), want %d", count, err, n)
		}
		if code := r.Stop(30 * time.Second); code != 0 {
			b.Fatalf("replica exited with %d after SIGTERM", code)
		}
		b.StartTimer()
	}
}
