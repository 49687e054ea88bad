package statusview

import (
	"context"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/seed-a550a1ef/kafka-qdrant/schemas"
)

var t0 = time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC)

func ev(id string, st schemas.State, sec int) schemas.Status {
	return schemas.Status{CommandID: id, Type: schemas.CommandIndexBuild, Collection: "c", State: st, Time: t0.Add(time.Duration(sec) * time.Second)}
}

func TestViewApply(t *testing.T) {
	tests := []struct {
		name   string
		events []schemas.Status
		want   schemas.State
		count  int
	}{
		{"lifecycle", []schemas.Status{ev("a", "accepted", 0), ev("a", "running", 1), ev("a", "succeeded", 2)}, schemas.StateSucceeded, 3},
		{"final is sticky against late progress", []schemas.Status{ev("a", "running", 1), ev("a", "failed", 2), ev("a", "running", 3)}, schemas.StateFailed, 3},
		{"a re-published final replaces", []schemas.Status{ev("a", "cancelled", 2), ev("a", "cancelled", 2)}, schemas.StateCancelled, 2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			v := NewView()
			for _, e := range tc.events {
				v.Apply(e)
			}
			got, ok := v.Get("a")
			if !ok || got.Latest.State != tc.want || got.Events != tc.count || !got.First.Equal(tc.events[0].Time) {
				t.Fatalf("got %+v", got)
			}
		})
	}
}

func TestViewListAndLatestFinal(t *testing.T) {
	v := NewView()
	d1 := ev("d1", schemas.StateSucceeded, 1)
	d1.Type = schemas.CommandIndexDefer
	d2 := ev("d2", schemas.StateSucceeded, 5)
	d2.Type = schemas.CommandIndexDefer
	d3 := ev("d3", schemas.StateFailed, 9) // failed: not a record
	d3.Type = schemas.CommandIndexDefer
	other := ev("d4", schemas.StateSucceeded, 7)
	other.Type, other.Collection = schemas.CommandIndexDefer, "other"
	for _, s := range []schemas.Status{d2, d1, d3, other, ev("b", schemas.StateRunning, 3)} {
		v.Apply(s)
	}
	got, ok := v.LatestFinal(schemas.CommandIndexDefer, "c", schemas.StateSucceeded)
	if !ok || got.CommandID != "d2" {
		t.Fatalf("LatestFinal = %+v, %v; want d2", got, ok)
	}
	var ids []string
	for _, e := range v.List() {
		ids = append(ids, e.Latest.CommandID)
	}
	if want := []string{"d3", "d4", "d2", "b", "d1"}; len(ids) != len(want) || ids[0] != want[0] || ids[4] != want[4] || ids[2] != want[2] {
		t.Fatalf("List order %v, want %v", ids, want)
	}
	v.Delete("d2")
	if _, ok := v.Get("d2"); ok || v.Len() != 4 {
		t.Fatal("Delete did not forget d2")
	}
}

func TestFollowerSync(t *testing.T) {
	kc, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(1, "st"))
	if err != nil {
		t.Fatal(err)
	}
	defer kc.Close()
	base := []kgo.Opt{kgo.SeedBrokers(kc.ListenAddrs()...), kgo.MetadataMinAge(10 * time.Millisecond)}
	prod, err := kgo.NewClient(append(base, kgo.DefaultProduceTopic("st"))...)
	if err != nil {
		t.Fatal(err)
	}
	defer prod.Close()
	produce := func(s schemas.Status) {
		b, _ := s.Encode()
		if err := prod.ProduceSync(t.Context(), &kgo.Record{Key: []byte(s.CommandID), Value: b}).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	produce(ev("a", schemas.StateAccepted, 0))
	if err := prod.ProduceSync(t.Context(), &kgo.Record{Key: []byte("junk"), Value: []byte("not json")}).FirstErr(); err != nil {
		t.Fatal(err)
	}
	produce(ev("a", schemas.StateRunning, 1))

	f, err := NewFollower(base, "st", NewView(), nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan struct{})
	go func() { defer close(done); _ = f.Run(ctx) }()
	defer func() { cancel(); <-done; f.Close() }()

	sctx, scancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer scancel()
	if err := f.Sync(sctx); err != nil {
		t.Fatal(err)
	}
	if e, ok := f.View().Get("a"); !ok || e.Latest.State != schemas.StateRunning || f.View().Len() != 1 {
		t.Fatalf("after Sync: %+v (len %d)", e, f.View().Len())
	}
	// Read-your-writes: what was acknowledged before Sync is in the view.
	produce(ev("a", schemas.StateSucceeded, 2))
	if err := f.Sync(sctx); err != nil {
		t.Fatal(err)
	}
	if e, _ := f.View().Get("a"); e.Latest.State != schemas.StateSucceeded {
		t.Fatalf("after the second Sync: %s", e.Latest.State)
	}
	// A tombstone forgets the command.
	if err := prod.ProduceSync(t.Context(), &kgo.Record{Key: []byte("a")}).FirstErr(); err != nil {
		t.Fatal(err)
	}
	if err := f.Sync(sctx); err != nil {
		t.Fatal(err)
	}
	if _, ok := f.View().Get("a"); ok {
		t.Fatal("tombstone did not delete")
	}
}
