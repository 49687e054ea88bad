package e2e

import (
	"context"
	"syscall"
	"testing"
	"time"

	"github.com/seed-a550a1ef/kafka-qdrant/e2e/internal/harness"
)

// TestScaleOneToThreeToOne: while records stream in, two replicas join a
// running one and then leave with SIGTERM (graceful: exit 0); every
// rebalance hands partitions over without losing or reordering records.
func TestScaleOneToThreeToOne(t *testing.T) {
	s := scenario(t, harness.ScenarioOptions{Partitions: 6})
	ctx := testContext(t, 4*time.Minute)

	a := s.Start(ctx, "a", nil)
	m := harness.NewModel()
	st := startStream(ctx, s, m, 2000, 300, 50*time.Millisecond)

	waitCommitted(ctx, t, s, 2000)
	b, c := s.Launch("b", nil), s.Launch("c", nil)
	for _, r := range []*harness.Replica{b, c} {
		if err := r.WaitReady(ctx, 90*time.Second); err != nil {
			t.Fatal(err)
		}
	}
	at3 := st.Produced()
	waitProduced(ctx, t, st, at3+4000)
	waitCommitted(ctx, t, s, int64(at3)) // the three replicas made progress

	for _, r := range []*harness.Replica{b, c} {
		if err := r.Signal(syscall.SIGTERM); err != nil {
			t.Fatal(err)
		}
	}
	for _, r := range []*harness.Replica{b, c} {
		wctx, cancel := context.WithTimeout(ctx, 45*time.Second)
		code, err := r.Wait(wctx)
		cancel()
		if err != nil {
			t.Fatal(err)
		}
		if code != 0 {
			t.Fatalf("%s exited with code %d after SIGTERM, want 0; log tail:\n%s", r.Name, code, harness.Tail(r.LogPath, 20))
		}
	}
	at1 := st.Produced()
	waitProduced(ctx, t, st, at1+3000) // back to one replica, still streaming
	total := st.Stop(t)
	s.Logf("scaled 1→3 after %d records, 3→1 after %d, %d in all", at3, at1, total)

	s.AssertFinal(ctx, m, 2*time.Minute)
	if a.Exited() {
		t.Errorf("a exited while scaling: %s", harness.Tail(a.LogPath, 10))
	}
}
