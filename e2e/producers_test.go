package e2e

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/seed-a550a1ef/kafka-qdrant/e2e/internal/harness"
)

// mixedWorkload is what a producer sends: numeric, UUID and other string
// ids, an upsert whose id comes from the record key, updates of earlier
// points and tombstones (by numeric and string keys).
func mixedWorkload(m *harness.Model) (before, after []harness.Record) {
	before = upserts(m, 1, 151, 0)
	for i := 0; i < 40; i++ {
		id := harness.StrID(fmt.Sprintf("0a1b2c3d-0000-4000-8000-%012d", i))
		before = append(before, m.Upsert(id, vec(1000+i, 0), payload(1000+i, 0)))
	}
	for i := 0; i < 20; i++ {
		id := harness.StrID(fmt.Sprintf("doc-%d", i))
		before = append(before, m.Upsert(id, vec(2000+i, 0), payload(2000+i, 0)))
	}
	after = append(after, upserts(m, 1, 51, 1)...) // updates
	for i := 51; i < 71; i++ {
		after = append(after, m.Delete(harness.NumID(uint64(i))))
	}
	for i := 0; i < 10; i++ {
		after = append(after, m.Delete(harness.StrID(fmt.Sprintf("doc-%d", i))))
	}
	after = append(after, m.UpsertKeyed(harness.NumID(5000), vec(5000, 0), payload(5000, 0)))
	after = append(after, m.UpsertKeyed(harness.StrID("keyed-doc"), vec(5001, 0), payload(5001, 0)))
	after = append(after, upserts(m, 151, 301, 0)...)
	return before, after
}

// TestProducers: records produced with kcat (the users' tool) and with
// franz-go end up in Qdrant exactly, and the group commits to the log end.
// Half the records are produced before the replica starts: a new group
// starts from the earliest offset.
func TestProducers(t *testing.T) {
	producers := []struct {
		name    string
		produce func(ctx context.Context, s *harness.Scenario, recs []harness.Record) error
	}{
		{"kcat", func(ctx context.Context, s *harness.Scenario, recs []harness.Record) error {
			return harness.KcatProduce(ctx, s.Env.Kafka.Brokers, s.Topic, recs, "source=kcat")
		}},
		{"franz-go", func(ctx context.Context, s *harness.Scenario, recs []harness.Record) error {
			_, err := harness.Produce(ctx, s.Env.Client, s.Topic, recs)
			return err
		}},
	}
	for _, p := range producers {
		t.Run(p.name, func(t *testing.T) {
			s := scenario(t, harness.ScenarioOptions{Partitions: 3})
			ctx := testContext(t, 3*time.Minute)
			m := harness.NewModel()
			before, after := mixedWorkload(m)

			if err := p.produce(ctx, s, before); err != nil {
				t.Fatal(err)
			}
			s.Start(ctx, "a", nil)
			if err := p.produce(ctx, s, after); err != nil {
				t.Fatal(err)
			}
			end, err := harness.EndOffsets(ctx, s.Env.Admin, s.Topic)
			if err != nil {
				t.Fatal(err)
			}
			if got, want := end.Total(), int64(len(before)+len(after)); got != want {
				t.Fatalf("topic holds %d records, want the %d produced", got, want)
			}
			s.AssertFinal(ctx, m, 90*time.Second)
		})
	}
}
