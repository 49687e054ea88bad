package backup

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"reflect"
	"slices"
	"testing"
	"testing/synctest"
	"time"

	"github.com/qdrant/go-client/qdrant"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/seed-a550a1ef/kafka-qdrant/config"
	"github.com/seed-a550a1ef/kafka-qdrant/control/job"
	"github.com/seed-a550a1ef/kafka-qdrant/internal/qdrantmem"
	"github.com/seed-a550a1ef/kafka-qdrant/schemas"
	"github.com/seed-a550a1ef/kafka-qdrant/sink"
)

// TestListAndPrune: four daily backups and one incomplete; prune keeps the
// newest two, never the incomplete one, and max_age never deletes the
// newest complete backup.
func TestListAndPrune(t *testing.T) {
	w := newWorld(t)
	w.produce(versions(span(0, 5), 1)...)
	w.apply(collection)
	day0 := time.Date(2026, 11, 1, 6, 0, 0, 0, time.UTC)
	for i := range 4 {
		w.clock.Set(day0.Add(time.Duration(i) * 24 * time.Hour))
		if _, err := w.run(schemas.CommandBackup, fmt.Sprintf("b-%d", i), collection, "", &fakeSession{}); err != nil {
			t.Fatal(err)
		}
	}
	// A backup being written: an object, no manifest.
	if _, err := w.st.Put(t.Context(), snapshotKey(collection, "b-writing", 7), bytes.NewReader([]byte("x")), 1, ""); err != nil {
		t.Fatal(err)
	}
	res, err := w.run(schemas.CommandListBackups, "l-1", collection, "", &fakeSession{})
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, b := range res.(ListResult).Backups {
		ids = append(ids, fmt.Sprintf("%s:%v", b.BackupID, b.Complete))
	}
	if want := []string{"b-writing:false", "b-3:true", "b-2:true", "b-1:true", "b-0:true"}; !slices.Equal(ids, want) {
		t.Fatalf("list = %v, want %v", ids, want)
	}

	w.clock.Set(day0.Add(10 * 24 * time.Hour))
	res, err = w.run(schemas.CommandPruneBackups, "p-1", collection, `{"keep_last": 2, "dry_run": true}`, &fakeSession{})
	if err != nil {
		t.Fatal(err)
	}
	if pr := res.(PruneResult); !slices.Equal(pr.Deleted, []string{"b-1", "b-0"}) || len(w.objects("collections/movies/b-0/")) == 0 {
		t.Fatalf("dry run = %+v", pr)
	}
	res, err = w.run(schemas.CommandPruneBackups, "p-2", collection, `{"keep_last": 2}`, &fakeSession{})
	if err != nil {
		t.Fatal(err)
	}
	pr := res.(PruneResult)
	if !slices.Equal(pr.Deleted, []string{"b-1", "b-0"}) || pr.Kept != 2 || !slices.Equal(pr.Incomplete, []string{"b-writing"}) {
		t.Fatalf("prune = %+v", pr)
	}
	if left := w.objects("collections/movies/b-0/"); len(left) != 0 {
		t.Fatalf("pruned backup left %v", left)
	}
	// max_age 1h: every complete backup is too old, the newest stays.
	res, err = w.run(schemas.CommandPruneBackups, "p-3", collection, `{"max_age": "1h"}`, &fakeSession{})
	if err != nil {
		t.Fatal(err)
	}
	if pr := res.(PruneResult); !slices.Equal(pr.Deleted, []string{"b-2"}) || pr.Kept != 1 {
		t.Fatalf("prune by age = %+v", pr)
	}
	if len(w.objects(snapshotKey(collection, "b-writing", 7))) != 1 {
		t.Fatal("prune deleted a backup being written")
	}
	// A replica that lost the command deletes nothing.
	w.clock.Set(day0.Add(20 * 24 * time.Hour))
	if _, err := w.run(schemas.CommandBackup, "b-9", collection, "", &fakeSession{}); err != nil {
		t.Fatal(err)
	}
	lost := &fakeSession{lost: true}
	if _, err := w.run(schemas.CommandPruneBackups, "p-4", collection, `{"keep_last": 1}`, lost); err == nil {
		t.Fatal("a prune without ownership succeeded")
	}
	if len(w.objects("collections/movies/b-3/")) == 0 {
		t.Fatal("a prune without ownership deleted a backup")
	}
}

// TestBackupStorage takes a full-storage snapshot into the store; with
// several nodes configured the command is refused.
func TestBackupStorage(t *testing.T) {
	w := newWorld(t)
	w.produce(versions(span(0, 5), 1)...)
	w.apply(collection)
	res, err := w.run(schemas.CommandBackupStorage, "s-1", "", "", &fakeSession{})
	if err != nil {
		t.Fatal(err)
	}
	r := res.(BackupResult)
	m := mustManifest(t, w.st, "", "s-1")
	if m.Kind != schemas.BackupKindStorage || r.Snapshots != 1 || m.Snapshots[0].Key != "storage/s-1/0.snapshot" {
		t.Fatalf("storage backup %+v, manifest %+v", r, m)
	}
	full, err := w.h.o.Nodes[0].ListFullSnapshots(t.Context())
	if err != nil || len(full) != 0 {
		t.Fatalf("full snapshots left on the node: %v %v", full, err)
	}
	list, err := w.run(schemas.CommandListBackups, "l-1", "", "", &fakeSession{})
	if err != nil || len(list.(ListResult).Backups) != 1 {
		t.Fatalf("storage backups: %+v %v", list, err)
	}
	second, _ := sink.NewSnapshotClient(w.q.REST, w.cfg.Qdrant)
	w.h.o.Nodes = append(w.h.o.Nodes, second)
	if _, err := w.run(schemas.CommandBackupStorage, "s-2", "", "", &fakeSession{}); code(err) != schemas.ErrInvalidParameters {
		t.Fatalf("storage backup of a cluster: %v", err)
	}
}

// TestClusterBackupRestore backs up a collection whose three shards live
// on three nodes (one snapshot per node, each holding its shard) and
// restores it onto the same three nodes and onto a single node.
func TestClusterBackupRestore(t *testing.T) {
	w := newWorld(t)
	cl := qdrantmem.NewTestCluster(t, 3)
	if err := cl.Client.CreateCollection(t.Context(), &qdrant.CreateCollection{
		CollectionName: collection, ShardNumber: qdrant.PtrOf(uint32(3)),
		VectorsConfig: qdrant.NewVectorsConfig(&qdrant.VectorParams{Size: dim, Distance: qdrant.Distance_Dot}),
	}); err != nil {
		t.Fatal(err)
	}
	w.q = &qdrantmem.TestServer{Server: cl.Server, Client: cl.Client, REST: cl.REST[0], GRPC: cl.GRPC[0]}
	w.writer = sink.NewWriter(sink.PooledPoints(cl.Client), cl.Client.GetCollectionsClient(), sink.WriterConfig{})
	recs := versions(span(0, 60), 1)
	w.produce(recs...)
	w.apply(collection)
	useNodes := func(urls ...string) {
		w.h.o.Nodes = nil
		for _, u := range urls {
			c, err := sink.NewSnapshotClient(u, config.Qdrant{Timeout: 10 * time.Second})
			if err != nil {
				t.Fatal(err)
			}
			w.h.o.Nodes = append(w.h.o.Nodes, c)
		}
		w.h.o.Qdrant = cl.Client
	}
	useNodes(cl.REST...)
	if _, err := w.run(schemas.CommandBackup, "b-c", collection, "", &fakeSession{}); err != nil {
		t.Fatal(err)
	}
	m := mustManifest(t, w.st, collection, "b-c")
	var shards [][]uint32
	for _, sn := range m.Snapshots {
		shards = append(shards, sn.Shards)
	}
	if !reflect.DeepEqual(shards, [][]uint32{{0}, {1}, {2}}) {
		t.Fatalf("snapshots hold shards %v, want one shard per node", shards)
	}
	if _, err := w.run(schemas.CommandRestore, "r-3", collection, `{"target": "three"}`, &fakeSession{}); err != nil {
		t.Fatal(err)
	}
	if d := diffPoints(model(recs...), w.points("three")); d != "" {
		t.Fatalf("restored onto three nodes:\n%s", d)
	}
	useNodes(cl.REST[0])
	if _, err := w.run(schemas.CommandRestore, "r-1", collection, `{"target": "one"}`, &fakeSession{}); err != nil {
		t.Fatal(err)
	}
	if d := diffPoints(model(recs...), w.points("one")); d != "" {
		t.Fatalf("restored onto one node:\n%s", d)
	}
}

// TestScheduler sends one backup and one prune per collection and slot,
// with ids two schedulers (replicas, restarts) agree on.
func TestScheduler(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var mu = make(chan struct{}, 1)
		sent := map[string]int{}
		var order []string
		send := func(_ context.Context, cmd schemas.Command) error {
			mu <- struct{}{}
			sent[cmd.ID]++
			order = append(order, string(cmd.Type)+" "+cmd.ID)
			<-mu
			return nil
		}
		cfg := config.Default()
		cfg.Backup.Schedule = "6h"
		cfg.Backup.Collections = []string{"movies", "odd name"}
		o := Options{Config: cfg, Qdrant: fakeQdrant{}, KafkaOpts: []kgo.Opt{kgo.SeedBrokers("127.0.0.1:1")},
			Clock: job.RealClock, Log: slog.New(slog.DiscardHandler)}
		ctx, cancel := context.WithCancel(t.Context())
		for range 2 { // two replicas
			sc, err := NewScheduler(o, send)
			if err != nil {
				t.Fatal(err)
			}
			go sc.Run(ctx)
		}
		start := time.Now().Truncate(6 * time.Hour)
		time.Sleep(13 * time.Hour)
		synctest.Wait()
		cancel()
		synctest.Wait()
		for i := range 3 {
			slot := start.Add(time.Duration(i) * 6 * time.Hour)
			for _, c := range cfg.Backup.Collections {
				b, p := SlotCommands(c, slot)
				if sent[b.ID] != 2 || sent[p.ID] != 2 {
					t.Fatalf("slot %s %s: backup sent %d times, prune %d (want 2 each: one per replica, one id)", slot, c, sent[b.ID], sent[p.ID])
				}
				if schemas.CheckID(b.ID) != nil || b.Type != schemas.CommandBackup || p.Type != schemas.CommandPruneBackups {
					t.Fatalf("commands %+v %+v", b, p)
				}
				if slices.Index(order, "backup "+b.ID) > slices.Index(order, "prune_backups "+p.ID) {
					t.Fatalf("prune sent before its backup: %v", order)
				}
			}
		}
		if len(sent) != 3*2*2 {
			t.Fatalf("%d distinct commands, want 12: %v", len(sent), sent)
		}
	})
}

// fakeQdrant is a Qdrant for handlers that never call it.
type fakeQdrant struct{ Qdrant }
