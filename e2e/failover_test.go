package e2e

import (
	"syscall"
	"testing"
	"time"

	"github.com/seed-a550a1ef/kafka-qdrant/e2e/internal/harness"
)

// TestSIGKILLReplicaLosesNothing: one of two replicas is SIGKILLed while
// records stream in and a third starts; the killed replica's partitions are
// re-read from the last commit, nothing is lost and the last version of
// every id wins.
func TestSIGKILLReplicaLosesNothing(t *testing.T) {
	s := scenario(t, harness.ScenarioOptions{Partitions: 6})
	ctx := testContext(t, 4*time.Minute)

	a, b := s.Launch("a", nil), s.Launch("b", nil)
	for _, r := range []*harness.Replica{a, b} {
		if err := r.WaitReady(ctx, 90*time.Second); err != nil {
			t.Fatal(err)
		}
	}
	m := harness.NewModel()
	st := startStream(ctx, s, m, 3000, 500, 50*time.Millisecond)

	waitCommitted(ctx, t, s, 3000) // both replicas are applying and committing
	if err := a.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	code, err := a.Wait(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if code != -1 {
		t.Fatalf("a exited with code %d after SIGKILL, want death by signal", code)
	}
	killedAt := st.Produced()
	c := s.Start(ctx, "c", nil)
	waitProduced(ctx, t, st, killedAt+5000) // c takes part while records keep coming
	total := st.Stop(t)
	s.Logf("SIGKILLed a after %d records; %d produced in all", killedAt, total)

	s.AssertFinal(ctx, m, 2*time.Minute)
	for _, r := range []*harness.Replica{b, c} {
		if r.Exited() {
			t.Errorf("%s exited during the failover: %s", r.Name, harness.Tail(r.LogPath, 10))
		}
	}
}
