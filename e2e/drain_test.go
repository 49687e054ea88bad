package e2e

import (
	"context"
	"syscall"
	"testing"
	"time"

	"github.com/seed-a550a1ef/kafka-qdrant/e2e/internal/harness"
)

// TestSIGTERMDrainsAndCommitsWhatItApplied: SIGTERM while records stream
// in: the replica drains and exits 0, and afterwards the collection holds
// exactly the records below the committed offsets: nothing applied is left
// uncommitted, nothing committed was skipped. A second replica then
// finishes the topic.
func TestSIGTERMDrainsAndCommitsWhatItApplied(t *testing.T) {
	s := scenario(t, harness.ScenarioOptions{Partitions: 3})
	ctx := testContext(t, 4*time.Minute)

	// Every record is a distinct id, so each point in Qdrant names the one
	// record (partition, offset) that wrote it.
	m := harness.NewModel()
	var produced []harness.Produced
	var ids []harness.ID
	next := 0
	produceChunk := func(n int) error {
		recs := make([]harness.Record, n)
		for j := range recs {
			id := harness.NumID(uint64(next))
			recs[j] = m.Upsert(id, vec(next, 0), payload(next, 0))
			ids = append(ids, id)
			next++
		}
		out, err := harness.Produce(ctx, s.Env.Client, s.Topic, recs)
		produced = append(produced, out...)
		return err
	}
	// A backlog, so the replica is busy when stopped.
	if err := produceChunk(20_000); err != nil {
		t.Fatal(err)
	}

	a := s.Start(ctx, "a", nil)
	waitCommitted(ctx, t, s, 1) // applying and committing
	// Keep producing while the replica drains, so it stops mid-stream.
	stopProducing := make(chan struct{})
	producing := make(chan error, 1)
	go func() {
		for {
			select {
			case <-stopProducing:
				producing <- nil
				return
			default:
			}
			if err := produceChunk(500); err != nil {
				producing <- err
				return
			}
		}
	}()
	if err := a.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	waitCtx, cancel := context.WithTimeout(ctx, 45*time.Second)
	code, err := a.Wait(waitCtx)
	cancel()
	close(stopProducing)
	if perr := <-producing; perr != nil {
		t.Fatal(perr)
	}
	if err != nil {
		t.Fatal(err)
	}
	if code != 0 {
		t.Fatalf("a exited with code %d after SIGTERM, want 0 (graceful drain); log tail:\n%s", code, harness.Tail(a.LogPath, 20))
	}

	committed, err := harness.CommittedOffsets(ctx, s.Env.Admin, s.Group, s.Topic)
	if err != nil {
		t.Fatal(err)
	}
	got, err := harness.ReadPoints(ctx, s.Env.QdrantClient, s.Collection)
	if err != nil {
		t.Fatal(err)
	}
	all := m.Points()
	want := make(map[string]harness.Point)
	for i, p := range produced {
		if c, ok := committed[p.Partition]; ok && p.Offset < c {
			key := ids[i].PointKey()
			want[key] = all[key]
		}
	}
	s.Logf("drained: %d of %d records committed and applied at exit (committed %v)", len(want), len(produced), committed)
	if d := harness.Diff(want, got, 5); len(d) > 0 {
		t.Fatalf("after the drain, Qdrant must hold exactly the records below the committed offsets %v:\n  %v", committed, d)
	}
	if len(want) == len(produced) {
		t.Logf("note: the replica had applied everything when it stopped; the drain was not mid-stream")
	}

	// A new replica picks up from the commits and finishes.
	s.Start(ctx, "b", nil)
	s.AssertFinal(ctx, m, 2*time.Minute)
}
