package statusview

import (
	"context"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/seed-a550a1ef/kafka-qdrant/schemas"
)

// kafka is a kfake cluster with the topic "st" and a plain producer.
type kafka struct {
	t    *testing.T
	base []kgo.Opt
	prod *kgo.Client
	adm  *kadm.Client
}

func newKafka(t *testing.T, topicConfigs map[string]*string) *kafka {
	t.Helper()
	kc, err := kfake.NewCluster(kfake.NumBrokers(1))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(kc.Close)
	base := []kgo.Opt{kgo.SeedBrokers(kc.ListenAddrs()...), kgo.MetadataMinAge(10 * time.Millisecond)}
	prod, err := kgo.NewClient(append(base, kgo.DefaultProduceTopic("st"))...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(prod.Close)
	adm := kadm.NewClient(prod)
	if _, err := adm.CreateTopic(t.Context(), 1, 1, topicConfigs, "st"); err != nil {
		t.Fatal(err)
	}
	return &kafka{t: t, base: base, prod: prod, adm: adm}
}

func (k *kafka) produce(s schemas.Status) {
	k.t.Helper()
	b, _ := s.Encode()
	if err := k.prod.ProduceSync(k.t.Context(), &kgo.Record{Key: []byte(s.CommandID), Value: b}).FirstErr(); err != nil {
		k.t.Fatal(err)
	}
}

// transact produces ss in one transaction and commits or aborts it.
func (k *kafka) transact(commit bool, ss ...schemas.Status) {
	k.t.Helper()
	cl, err := kgo.NewClient(append(k.base, kgo.DefaultProduceTopic("st"), kgo.TransactionalID("txn-test"))...)
	if err != nil {
		k.t.Fatal(err)
	}
	defer cl.Close()
	if err := cl.BeginTransaction(); err != nil {
		k.t.Fatal(err)
	}
	for _, s := range ss {
		b, _ := s.Encode()
		if err := cl.ProduceSync(k.t.Context(), &kgo.Record{Key: []byte(s.CommandID), Value: b}).FirstErr(); err != nil {
			k.t.Fatal(err)
		}
	}
	if err := cl.EndTransaction(k.t.Context(), kgo.TransactionEndTry(commit)); err != nil {
		k.t.Fatal(err)
	}
}

// follow starts a follower of "st", after setup.
func (k *kafka) follow(setup ...func(*Follower)) *Follower {
	k.t.Helper()
	f, err := NewFollower(k.base, "st", NewView(), nil)
	if err != nil {
		k.t.Fatal(err)
	}
	for _, fn := range setup {
		fn(f)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = f.Run(ctx) }()
	k.t.Cleanup(func() { cancel(); <-done; f.Close() })
	return f
}

// syncUp is Sync bounded to 10s.
func syncUp(t *testing.T, f *Follower) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	if err := f.Sync(ctx); err != nil {
		t.Fatalf("Sync: %v", err)
	}
}

func TestFollowerSync(t *testing.T) {
	k := newKafka(t, nil)
	k.produce(ev("a", schemas.StateAccepted, 0))
	if err := k.prod.ProduceSync(t.Context(), &kgo.Record{Key: []byte("junk"), Value: []byte("not json")}).FirstErr(); err != nil {
		t.Fatal(err)
	}
	k.produce(ev("a", schemas.StateRunning, 1))

	f := k.follow()
	syncUp(t, f)
	if e, ok := f.View().Get("a"); !ok || e.Latest.State != schemas.StateRunning || f.View().Len() != 1 || e.At.Offset != 2 {
		t.Fatalf("after Sync: %+v (len %d)", e, f.View().Len())
	}
	// Read-your-writes: what was acknowledged before Sync is in the view.
	k.produce(ev("a", schemas.StateSucceeded, 2))
	syncUp(t, f)
	if e, _ := f.View().Get("a"); e.Latest.State != schemas.StateSucceeded {
		t.Fatalf("after the second Sync: %s", e.Latest.State)
	}
	// A tombstone forgets the command.
	if err := k.prod.ProduceSync(t.Context(), &kgo.Record{Key: []byte("a")}).FirstErr(); err != nil {
		t.Fatal(err)
	}
	syncUp(t, f)
	if _, ok := f.View().Get("a"); ok {
		t.Fatal("tombstone did not delete")
	}
}

// Reading the topic to its end finishes when the tail holds no records:
// transaction markers, an aborted transaction, records deleted with
// DeleteRecords (on a compact,delete topic, as Kafka allows it only there).
func TestFollowerSyncEndsWhenTheTailHasNoRecords(t *testing.T) {
	compactDelete := "compact,delete"
	tests := []struct {
		name  string
		tail  func(k *kafka)
		wantA schemas.State // "" = a is not in the view
	}{
		{name: "committed transaction (commit marker last)", tail: func(k *kafka) {
			k.transact(true, ev("a", schemas.StateSucceeded, 2))
		}, wantA: schemas.StateSucceeded},
		{name: "aborted transaction", tail: func(k *kafka) {
			k.transact(false, ev("a", schemas.StateFailed, 2))
		}, wantA: schemas.StateRunning},
		{name: "every record deleted", tail: func(k *kafka) {
			ends, err := k.adm.ListEndOffsets(k.t.Context(), "st")
			if err != nil {
				k.t.Fatal(err)
			}
			resp, err := k.adm.DeleteRecords(k.t.Context(), ends.Offsets())
			if err == nil {
				err = resp.Error()
			}
			if err != nil {
				k.t.Fatal(err)
			}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			k := newKafka(t, map[string]*string{"cleanup.policy": &compactDelete})
			k.produce(ev("a", schemas.StateAccepted, 0))
			k.produce(ev("a", schemas.StateRunning, 1))
			tc.tail(k)
			f := k.follow()
			syncUp(t, f)
			e, ok := f.View().Get("a")
			if tc.wantA == "" && ok || tc.wantA != "" && e.Latest.State != tc.wantA {
				t.Fatalf("a = %+v (found %v), want state %q", e, ok, tc.wantA)
			}
			// Later events are read after the empty tail.
			k.produce(ev("b", schemas.StateAccepted, 3))
			syncUp(t, f)
			if _, ok := f.View().Get("b"); !ok {
				t.Fatal("b not read after the empty tail")
			}
		})
	}
}

// The view orders events by their offset, never by their time: replicas'
// clocks differ, so the index_defer written last is the one that counts
// even when its time is earlier.
func TestFollowerOrdersByOffsetNotTime(t *testing.T) {
	k := newKafka(t, nil)
	late := ev("d-skewed", schemas.StateSucceeded, 3600) // written first, by a replica whose clock runs ahead
	late.Type = schemas.CommandIndexDefer
	early := ev("d-last", schemas.StateSucceeded, 0) // written last
	early.Type = schemas.CommandIndexDefer
	k.produce(late)
	k.produce(early)
	f := k.follow()
	syncUp(t, f)
	got, ok := f.View().LatestFinal(schemas.CommandIndexDefer, "c", schemas.StateSucceeded)
	if !ok || got.CommandID != "d-last" {
		t.Fatalf("LatestFinal = %s, want d-last (the later offset)", got.CommandID)
	}
	if l := f.View().List(); len(l) != 2 || l[0].Latest.CommandID != "d-last" {
		t.Fatalf("List starts with %s, want d-last", l[0].Latest.CommandID)
	}
}

// Catching up decodes about one event per command, yet the view is what
// applying every event in order gives: a final stays (sticky) against a
// later non-final event in the same batch, a tombstone forgets what came
// before it, a record after a tombstone counts.
func TestFollowerBatchIsAppliedAsInOrder(t *testing.T) {
	k := newKafka(t, nil)
	var recs []*kgo.Record
	add := func(id string, st schemas.State) {
		b, _ := ev(id, st, 0).Encode()
		recs = append(recs, &kgo.Record{Key: []byte(id), Value: b})
	}
	tomb := func(id string) { recs = append(recs, &kgo.Record{Key: []byte(id)}) }
	add("a", schemas.StateRunning)
	add("a", schemas.StateSucceeded)
	add("a", schemas.StateRunning) // a late zombie event
	add("b", schemas.StateAccepted)
	tomb("b")
	tomb("c")
	add("c", schemas.StateAccepted)
	add("d", schemas.StateFailed)
	tomb("d")
	add("d", schemas.StateRunning)
	if err := k.prod.ProduceSync(t.Context(), recs...).FirstErr(); err != nil {
		t.Fatal(err)
	}
	want := map[string]schemas.State{"a": schemas.StateSucceeded, "c": schemas.StateAccepted, "d": schemas.StateRunning}
	f := k.follow()
	syncUp(t, f)
	for id, st := range want {
		if e, ok := f.View().Get(id); !ok || e.Latest.State != st {
			t.Errorf("%s = %+v (found %v), want %s", id, e.Latest, ok, st)
		}
	}
	if _, ok := f.View().Get("b"); ok || f.View().Len() != 3 {
		t.Errorf("b should be forgotten; view has %d commands", f.View().Len())
	}

	only := k.follow(func(f *Follower) { f.KeepOnly("c") })
	syncUp(t, only)
	if _, ok := only.View().Get("c"); !ok || only.View().Len() != 1 {
		t.Fatalf("KeepOnly(c): view has %d commands", only.View().Len())
	}
}
