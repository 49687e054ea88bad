package e2e

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/seed-a550a1ef/kafka-qdrant/control/backup"
	"github.com/seed-a550a1ef/kafka-qdrant/e2e/internal/harness"
)

// TestRestoreAliasSwitchWhileProducing: two replicas write the topic to an
// alias; the collection behind it is backed up, then restored into a new
// collection with a replay while records keep arriving, and the alias is
// switched to it. Nothing is lost and no older write overwrites a newer
// one: once everything is committed, the new collection (and the alias)
// hold exactly the model of every record produced — before the backup,
// during the replay, during the data path's pause, after the switch.
func TestRestoreAliasSwitchWhileProducing(t *testing.T) {
	s := scenario(t, harness.ScenarioOptions{Partitions: 3})
	ctx := testContext(t, 5*time.Minute)
	alias, target := s.Collection+"-live", s.Collection+"-v2"
	q := s.Env.QdrantClient
	if err := q.CreateAlias(ctx, alias, s.Collection); err != nil {
		t.Fatal(err)
	}
	s.DropAtEnd(target)
	t.Cleanup(func() {
		cctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_ = q.DeleteAlias(cctx, alias)
	})
	cfg := func() harness.ReplicaConfig {
		c := s.Config()
		c.Set("routing.topics", map[string]string{s.Topic: alias})
		return c
	}
	s.Start(ctx, "r0", cfg())
	s.Start(ctx, "r1", cfg())

	m := harness.NewModel()
	produce := func(recs []harness.Record) error {
		_, err := harness.Produce(ctx, s.Env.Client, s.Topic, recs)
		return err
	}
	if err := produce(upserts(m, 0, 300, 1)); err != nil {
		t.Fatal(err)
	}
	s.WaitCommittedAtEnd(ctx, time.Minute)
	ctlOK(ctx, t, s, "backup", alias, "--id", "b-live", "--wait")

	// The producer: new points (a lost write shows as a missing point),
	// newer versions and deletes of recent ones (an older write over a
	// newer one shows as a wrong version or a point back from the dead),
	// in small batches until stopped.
	stop, done := make(chan struct{}), make(chan error, 1)
	go func() {
		next := 1000
		for {
			select {
			case <-stop:
				done <- nil
				return
			default:
			}
			recs := upserts(m, next, next+20, 1)
			recs = append(recs, upserts(m, next-10, next-5, 2)...)
			recs = append(recs, m.Delete(harness.NumID(uint64(next-15))))
			if err := produce(recs); err != nil {
				done <- err
				return
			}
			next += 20
			time.Sleep(20 * time.Millisecond)
		}
	}()
	time.Sleep(time.Second) // records between the backup and the restore

	final := ctlOK(ctx, t, s, "restore", alias, "--into", target, "--replay", "--alias", alias, "--wait")
	time.Sleep(time.Second) // records after the switch
	close(stop)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	s.WaitCommittedAtEnd(ctx, 2*time.Minute)

	r := result[backup.RestoreResult](t, final)
	if r.Alias != alias || r.PreviousTarget != s.Collection || r.PauseSeconds <= 0 || r.Replay == nil || r.Replay.Records == 0 {
		t.Fatalf("restore result %+v (replay %+v)", r, r.Replay)
	}
	s.Logf("restore replayed %d records; the data path paused %.3fs for the switch; %d points expected", r.Replay.Records, r.PauseSeconds, m.Len())
	for _, name := range []string{target, alias} {
		got, err := harness.ReadPoints(ctx, q, name)
		if err != nil {
			t.Fatal(err)
		}
		if d := harness.Diff(m.Points(), got, 10); len(d) > 0 {
			t.Fatalf("%s holds %d points, want %d:\n  %s", name, len(got), m.Len(), strings.Join(d, "\n  "))
		}
	}
}
