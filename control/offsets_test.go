package control

import (
	"maps"
	"testing"
)

func TestOffsets(t *testing.T) {
	type step struct {
		add, done []int64
		ack       bool // Kafka acknowledges the returned points
		want      map[int32]int64
	}
	tests := []struct {
		name  string
		steps []step
	}{
		{name: "in order", steps: []step{
			{add: []int64{0, 1, 2}, want: map[int32]int64{0: 0}, ack: true},
			{done: []int64{0}, want: map[int32]int64{0: 1}, ack: true},
			{done: []int64{1, 2}, want: map[int32]int64{0: 3}, ack: true},
			{want: map[int32]int64{}},
		}},
		{name: "a long command holds the later ones back", steps: []step{
			{add: []int64{5, 6, 7}, done: []int64{6, 7}, want: map[int32]int64{0: 5}, ack: true},
			{want: map[int32]int64{}},
			{done: []int64{5}, want: map[int32]int64{0: 8}, ack: true},
		}},
		{name: "failed commit is retried", steps: []step{
			{add: []int64{0, 1}, done: []int64{0, 1}, want: map[int32]int64{0: 2}},
			{want: map[int32]int64{0: 2}, ack: true},
			{want: map[int32]int64{}},
		}},
		{name: "gaps in offsets (compaction)", steps: []step{
			{add: []int64{10, 14, 20}, done: []int64{10, 14}, want: map[int32]int64{0: 20}, ack: true},
			{done: []int64{20}, want: map[int32]int64{0: 21}, ack: true},
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			o := newOffsets()
			for i, s := range tc.steps {
				for _, a := range s.add {
					o.add(0, a)
				}
				for _, d := range s.done {
					o.markDone(0, d)
				}
				got := o.commitPoints()
				if !maps.Equal(got, s.want) {
					t.Fatalf("step %d: commit points %v, want %v", i, got, s.want)
				}
				if s.ack {
					for p, n := range got {
						o.committed(p, n)
					}
				}
			}
		})
	}
}
