package e2e

import (
	"context"
	"syscall"
	"testing"
	"time"

	"github.com/seed-a550a1ef/kafka-qdrant/e2e/internal/harness"
	"github.com/seed-a550a1ef/kafka-qdrant/e2e/internal/tcpproxy"
)

// TestSecondSignalExitsAtOnce: a replica whose batches cannot be applied
// (Qdrant cut off) waits in its drain after the first SIGTERM; a second
// SIGTERM ends it at once with exit code 1, committing nothing it did not
// apply. A new replica then applies everything.
func TestSecondSignalExitsAtOnce(t *testing.T) {
	s := scenario(t, harness.ScenarioOptions{Partitions: 2})
	ctx := testContext(t, 3*time.Minute)

	proxy, err := tcpproxy.Listen(s.Env.Qdrant.GRPC)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { proxy.Close() })
	cfg := s.Config()
	cfg.Set("qdrant.grpc", proxy.Addr())
	cfg.Set("shutdown.timeout", "2m")
	a := s.Start(ctx, "a", cfg)

	m := harness.NewModel()
	s.Produce(ctx, upserts(m, 0, 500, 0))
	s.WaitCommittedAtEnd(ctx, time.Minute)
	before, err := harness.CommittedOffsets(ctx, s.Env.Admin, s.Group, s.Topic)
	if err != nil {
		t.Fatal(err)
	}

	proxy.Cut()
	s.Produce(ctx, upserts(m, 0, 500, 1)) // cannot be applied now
	time.Sleep(time.Second)               // let the replica take them into batches
	if err := a.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	// The drain waits for the batches in flight (up to shutdown.timeout).
	early, cancel := context.WithTimeout(ctx, 3*time.Second)
	if code, err := a.Wait(early); err == nil {
		cancel()
		t.Fatalf("replica exited (code %d) during its drain although its batches were not applied", code)
	}
	cancel()
	if err := a.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	quick, cancel := context.WithTimeout(ctx, 10*time.Second)
	code, err := a.Wait(quick)
	cancel()
	if err != nil {
		t.Fatalf("replica still running 10 s after the second SIGTERM: %v", err)
	}
	s.Logf("second SIGTERM: exit code %d after %v", code, time.Since(start).Round(time.Millisecond))
	if code != 1 {
		t.Fatalf("exit code %d after an aborted drain, want 1; log tail:\n%s", code, harness.Tail(a.LogPath, 20))
	}
	after, err := harness.CommittedOffsets(ctx, s.Env.Admin, s.Group, s.Topic)
	if err != nil {
		t.Fatal(err)
	}
	if after.String() != before.String() {
		t.Fatalf("offsets moved past unapplied records: %v, before the cut %v", after, before)
	}

	proxy.Restore()
	s.Start(ctx, "b", nil)
	s.AssertFinal(ctx, m, 2*time.Minute)
}
