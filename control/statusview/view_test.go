package statusview

import (
	"slices"
	"testing"
	"time"

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
		at     int64
	}{
		{"lifecycle", []schemas.Status{ev("a", "accepted", 0), ev("a", "running", 1), ev("a", "succeeded", 2)}, schemas.StateSucceeded, 2},
		{"final is sticky against late progress", []schemas.Status{ev("a", "running", 1), ev("a", "failed", 2), ev("a", "running", 3)}, schemas.StateFailed, 1},
		{"a re-published final replaces", []schemas.Status{ev("a", "cancelled", 2), ev("a", "cancelled", 2)}, schemas.StateCancelled, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			v := NewView()
			for i, e := range tc.events {
				v.Apply(e, Position{Offset: int64(i)})
			}
			got, ok := v.Get("a")
			if !ok || got.Latest.State != tc.want || got.At.Offset != tc.at || got.Last.Offset != int64(len(tc.events)-1) {
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
	for i, s := range []schemas.Status{d1, d2, ev("b", schemas.StateRunning, 3), other, d3} {
		v.Apply(s, Position{Offset: int64(i)})
	}
	got, ok := v.LatestFinal(schemas.CommandIndexDefer, "c", schemas.StateSucceeded)
	if !ok || got.CommandID != "d2" {
		t.Fatalf("LatestFinal = %+v, %v; want d2", got, ok)
	}
	var ids []string
	for _, e := range v.List() {
		ids = append(ids, e.Latest.CommandID)
	}
	if want := []string{"d3", "d4", "b", "d2", "d1"}; !slices.Equal(ids, want) {
		t.Fatalf("List order %v, want %v", ids, want)
	}
	v.Delete("d2")
	if _, ok := v.Get("d2"); ok || v.Len() != 4 {
		t.Fatal("Delete did not forget d2")
	}
}
