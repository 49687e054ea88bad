package e2e

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/seed-a550a1ef/kafka-qdrant/e2e/internal/harness"
)

// TestHundredThousandRecordsTwoReplicas: 100k records through two replica
// processes sharing six partitions; both take part, nothing is lost.
func TestHundredThousandRecordsTwoReplicas(t *testing.T) {
	const n = 100_000
	s := scenario(t, harness.ScenarioOptions{Partitions: 6})
	ctx := testContext(t, 6*time.Minute)

	a, b := s.Launch("a", nil), s.Launch("b", nil)
	for _, r := range []*harness.Replica{a, b} {
		if err := r.WaitReady(ctx, 90*time.Second); err != nil {
			t.Fatal(err)
		}
	}
	m := harness.NewModel()
	start := time.Now()
	for lo := 0; lo < n; lo += 10_000 {
		s.Produce(ctx, upserts(m, lo, lo+10_000, 0))
	}
	produced := time.Since(start)
	s.WaitCommittedAtEnd(ctx, 4*time.Minute)
	took := time.Since(start)
	s.Logf("%d records: produced in %v, applied and committed in %v (%.0f records/s end to end)",
		n, produced.Round(time.Millisecond), took.Round(time.Millisecond), float64(n)/took.Seconds())
	s.AssertContent(ctx, m)

	// Both replicas consumed: the work was shared, not done by one.
	var total float64
	for _, r := range []*harness.Replica{a, b} {
		text, err := r.Metrics(ctx)
		if err != nil {
			t.Fatal(err)
		}
		got, ok := metricValue(text, "kafka_qdrant_records_consumed_total")
		if !ok {
			t.Fatalf("%s: no kafka_qdrant_records_consumed_total in /metrics", r.Name)
		}
		if got == 0 {
			t.Errorf("%s consumed no records; the group did not share the partitions", r.Name)
		}
		total += got
	}
	if total < n {
		t.Errorf("replicas consumed %.0f records in total, want at least %d", total, n)
	}
}

// metricValue returns the sum of the samples of an unlabelled or labelled
// metric in Prometheus text format.
func metricValue(text, name string) (float64, bool) {
	var sum float64
	found := false
	for _, line := range strings.Split(text, "\n") {
		if !strings.HasPrefix(line, name) {
			continue
		}
		rest := line[len(name):]
		if rest == "" || (rest[0] != ' ' && rest[0] != '{') {
			continue
		}
		f := strings.Fields(line)
		v, err := strconv.ParseFloat(f[len(f)-1], 64)
		if err != nil {
			continue
		}
		sum += v
		found = true
	}
	return sum, found
}
