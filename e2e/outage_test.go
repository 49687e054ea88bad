package e2e

import (
	"fmt"
	"testing"
	"time"

	"github.com/seed-a550a1ef/kafka-qdrant/e2e/internal/harness"
	"github.com/seed-a550a1ef/kafka-qdrant/e2e/internal/tcpproxy"
)

// qdrantOutage is how long Qdrant is unreachable.
const qdrantOutage = 15 * time.Second

// TestQdrantUnreachableNoDLQ: Qdrant is unreachable for 15 s (a TCP proxy
// between the replica and Qdrant's gRPC API is cut) while records keep
// coming: nothing goes to the DLQ, no offset moves while nothing can be
// applied, and everything is applied once Qdrant is back.
func TestQdrantUnreachableNoDLQ(t *testing.T) {
	s := scenario(t, harness.ScenarioOptions{Partitions: 3, DLQ: true})
	ctx := testContext(t, 4*time.Minute)

	proxy, err := tcpproxy.Listen(s.Env.Qdrant.GRPC)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { proxy.Close() })
	cfg := s.Config()
	cfg.Set("qdrant.grpc", proxy.Addr())
	a := s.Start(ctx, "a", cfg)

	m := harness.NewModel()
	s.Produce(ctx, upserts(m, 0, 2000, 0))
	s.WaitCommittedAtEnd(ctx, time.Minute)
	before, err := harness.CommittedOffsets(ctx, s.Env.Admin, s.Group, s.Topic)
	if err != nil {
		t.Fatal(err)
	}

	proxy.Cut()
	s.Logf("Qdrant cut off for %v", qdrantOutage)
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	deadline := time.Now().Add(qdrantOutage)
	for ver := 1; time.Now().Before(deadline); ver++ {
		// Records keep coming: updates of the first points and new ones.
		s.Produce(ctx, append(upserts(m, 0, 100, ver), upserts(m, 2000+ver*100, 2100+ver*100, 0)...))
		if err := noDLQ(s); err != nil {
			t.Fatal(err)
		}
		now, err := harness.CommittedOffsets(ctx, s.Env.Admin, s.Group, s.Topic)
		if err != nil {
			t.Fatal(err)
		}
		if now.String() != before.String() {
			t.Fatalf("offsets committed while Qdrant was unreachable: %v, before the cut %v", now, before)
		}
		<-tick.C
	}
	proxy.Restore()
	s.Logf("Qdrant reachable again; %d connections were refused during the outage", proxy.Refused())
	if proxy.Refused() == 0 {
		t.Errorf("the replica never tried to reach Qdrant during the outage")
	}

	s.AssertFinal(ctx, m, 90*time.Second)
	if err := noDLQ(s); err != nil {
		t.Fatal(err)
	}
	// The outage shows in the metrics as retries, not as dead letters.
	text, err := a.Metrics(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if n, _ := metricValue(text, "kafka_qdrant_retries_total"); n == 0 {
		t.Errorf("kafka_qdrant_retries_total is 0 after a 15 s outage")
	}
	if n, _ := metricValue(text, "kafka_qdrant_records_dead_lettered_total"); n != 0 {
		t.Errorf("kafka_qdrant_records_dead_lettered_total = %v, want 0", n)
	}
}

// noDLQ checks that the scenario's DLQ topic is empty.
func noDLQ(s *harness.Scenario) error {
	end, err := harness.EndOffsets(s.T.Context(), s.Env.Admin, s.DLQTopic)
	if err != nil {
		return err
	}
	if end.Total() != 0 {
		return fmt.Errorf("%d records went to the DLQ; a retryable outage must never dead-letter", end.Total())
	}
	return nil
}
