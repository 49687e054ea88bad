package groupmember

import (
	"fmt"
	"maps"
	"math"
	"math/rand/v2"
	"sync"
	"testing"

	"github.com/twmb/franz-go/pkg/kgo"
)

func eo(o int64) kgo.EpochOffset { return kgo.EpochOffset{Epoch: 3, Offset: o} }

// points flattens Pending for one topic: partition → offset.
func points(t *Tracker) map[int32]int64 {
	out := map[int32]int64{}
	for _, ps := range t.Pending() {
		for p, o := range ps {
			out[p] = o.Offset
		}
	}
	return out
}

func TestTrackerCommitPoint(t *testing.T) {
	type step struct {
		take [][2]int64      // ranges [from, end) taken, in order; numbered from 0 across steps
		done []int           // work (by number) done
		upTo map[int]int64   // work (by number) done below an offset
		ack  bool            // Kafka acknowledges the returned points
		want map[int32]int64 // Pending after the step
	}
	tests := []struct {
		name  string
		steps []step
	}{
		{name: "records in order (a control partition)", steps: []step{
			{take: [][2]int64{{0, 1}, {1, 2}, {2, 3}}, want: map[int32]int64{0: 0}, ack: true},
			{done: []int{0}, want: map[int32]int64{0: 1}, ack: true},
			{done: []int{1, 2}, want: map[int32]int64{0: 3}, ack: true},
			{want: map[int32]int64{}},
		}},
		{name: "a long command holds the later ones back", steps: []step{
			{take: [][2]int64{{5, 6}, {6, 7}, {7, 8}}, done: []int{1, 2}, want: map[int32]int64{0: 5}, ack: true},
			{want: map[int32]int64{}},
			{done: []int{0}, want: map[int32]int64{0: 8}, ack: true},
		}},
		{name: "a failed commit is retried", steps: []step{
			{take: [][2]int64{{0, 1}, {1, 2}}, done: []int{0, 1}, want: map[int32]int64{0: 2}},
			{want: map[int32]int64{0: 2}, ack: true},
			{want: map[int32]int64{}},
		}},
		{name: "gaps in offsets (compaction, transaction markers)", steps: []step{
			{take: [][2]int64{{10, 11}, {14, 15}, {20, 21}}, done: []int{0, 1}, want: map[int32]int64{0: 20}, ack: true},
			{done: []int{2}, want: map[int32]int64{0: 21}, ack: true},
		}},
		{name: "batches finishing out of order (several in flight)", steps: []step{
			{take: [][2]int64{{0, 100}, {100, 250}, {250, 300}}, done: []int{2}, want: map[int32]int64{0: 0}},
			{done: []int{1}, want: map[int32]int64{0: 0}},
			{done: []int{0}, want: map[int32]int64{0: 300}, ack: true},
		}},
		{name: "one batch at a time (the data path today)", steps: []step{
			{take: [][2]int64{{0, 100}}, done: []int{0}, want: map[int32]int64{0: 100}, ack: true},
			{take: [][2]int64{{100, 200}}, want: map[int32]int64{}},
			{done: []int{1}, want: map[int32]int64{0: 200}},
		}},
		{name: "done below an offset: a bad record stops the partition", steps: []step{
			{take: [][2]int64{{0, 100}, {100, 200}}, upTo: map[int]int64{0: 42}, want: map[int32]int64{0: 42}, ack: true},
			// The later batch finishing does not skip the bad record.
			{done: []int{1}, want: map[int32]int64{}},
			// Neither does a mark below the one already made.
			{upTo: map[int]int64{0: 10}, want: map[int32]int64{}},
		}},
		{name: "marks twice, or past the end, count once", steps: []step{
			{take: [][2]int64{{0, 10}}, upTo: map[int]int64{0: 50}, want: map[int32]int64{0: 10}, ack: true},
			{done: []int{0}, want: map[int32]int64{}},
		}},
		{name: "nothing taken: nothing to commit", steps: []step{
			{want: map[int32]int64{}},
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tr := newTracker()
			tr.assign(map[string][]int32{"t": {0}})
			var works []*Work
			for i, s := range tc.steps {
				for _, r := range s.take {
					works = append(works, tr.Take("t", 0, eo(r[0]), eo(r[1])))
				}
				for _, n := range s.done {
					works[n].Done()
				}
				for n, o := range s.upTo {
					works[n].DoneUpTo(eo(o))
				}
				got := points(tr)
				if !maps.Equal(got, s.want) {
					t.Fatalf("step %d: pending %v, want %v", i, got, s.want)
				}
				for _, ps := range tr.Pending() {
					for _, o := range ps {
						if o.Epoch != 3 {
							t.Fatalf("step %d: commit point %+v lost the record's leader epoch", i, o)
						}
					}
				}
				if s.ack {
					tr.committed(tr.Pending())
				}
			}
		})
	}
}

// TestTrackerOwnership: marks count only in the ownership period that took
// the work; revoke returns what is pending and disowns, loss drops.
func TestTrackerOwnership(t *testing.T) {
	parts := map[string][]int32{"t": {0, 1}}
	tests := []struct {
		name string
		run  func(t *testing.T, tr *Tracker)
	}{
		{name: "not owned: no work", run: func(t *testing.T, tr *Tracker) {
			if w := tr.Take("t", 7, eo(0), eo(1)); w != nil {
				t.Fatal("work taken for a partition never assigned")
			}
			var w *Work
			w.Done() // a nil Work ignores marks
			w.DoneUpTo(eo(5))
		}},
		{name: "revoke returns the pending points and disowns", run: func(t *testing.T, tr *Tracker) {
			a := tr.Take("t", 0, eo(0), eo(10))
			b := tr.Take("t", 1, eo(0), eo(10))
			a.Done()
			got := tr.disown(map[string][]int32{"t": {0}})
			if got["t"][0].Offset != 10 || len(got["t"]) != 1 {
				t.Fatalf("disown returned %v, want t/0 at 10", got)
			}
			b.Done()
			if p := points(tr); !maps.Equal(p, map[int32]int64{1: 10}) {
				t.Fatalf("pending %v after revoking t/0, want only t/1", p)
			}
			if w := tr.Take("t", 0, eo(10), eo(20)); w != nil {
				t.Fatal("work taken for a revoked partition")
			}
		}},
		{name: "loss drops the marks; later marks are ignored", run: func(t *testing.T, tr *Tracker) {
			a := tr.Take("t", 0, eo(0), eo(10))
			tr.drop(map[string][]int32{"t": {0}})
			a.Done()
			if p := points(tr); len(p) != 0 {
				t.Fatalf("pending %v after loss", p)
			}
		}},
		{name: "a late mark of a former period does not count in the next", run: func(t *testing.T, tr *Tracker) {
			old := tr.Take("t", 0, eo(0), eo(10))
			tr.drop(map[string][]int32{"t": {0}})
			tr.assign(map[string][]int32{"t": {0}})
			cur := tr.Take("t", 0, eo(0), eo(10)) // redelivered to the new period
			old.Done()
			if p := points(tr); !maps.Equal(p, map[int32]int64{0: 0}) {
				t.Fatalf("pending %v: the former period's mark counted", p)
			}
			cur.Done()
			if p := points(tr); !maps.Equal(p, map[int32]int64{0: 10}) {
				t.Fatalf("pending %v, want 10", p)
			}
		}},
		{name: "assigning an owned partition keeps its work", run: func(t *testing.T, tr *Tracker) {
			w := tr.Take("t", 0, eo(0), eo(10))
			tr.assign(parts)
			w.Done()
			if p := points(tr); !maps.Equal(p, map[int32]int64{0: 10}) {
				t.Fatalf("pending %v, want 10", p)
			}
		}},
		{name: "owned filters", run: func(t *testing.T, tr *Tracker) {
			tr.drop(map[string][]int32{"t": {1}})
			got := tr.owned(map[string][]int32{"t": {0, 1}, "u": {0}})
			if len(got) != 1 || len(got["t"]) != 1 || got["t"][0] != 0 {
				t.Fatalf("owned = %v, want t[0]", got)
			}
			tr.drop(nil)
			if got := tr.owned(nil); len(got) != 0 {
				t.Fatalf("owned = %v after dropping everything", got)
			}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tr := newTracker()
			tr.assign(parts)
			tc.run(t, tr)
		})
	}
}

func TestTrackerRefusesWorkOutOfOrder(t *testing.T) {
	tests := []struct {
		name     string
		from, to int64
	}{
		{"overlapping the previous work", 5, 15},
		{"before the previous work", 0, 3},
		{"empty", 20, 20},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tr := newTracker()
			tr.assign(map[string][]int32{"t": {0}})
			tr.Take("t", 0, eo(3), eo(10))
			defer func() {
				if recover() == nil {
					t.Fatalf("Take [%d, %d) after [3, 10) did not panic", tc.from, tc.to)
				}
			}()
			tr.Take("t", 0, eo(tc.from), eo(tc.to))
		})
	}
}

// TestTrackerConcurrentCompletion: one taker, workers finishing in any
// order (some first below an offset), a committer reading and
// acknowledging points meanwhile (run with -race). The point never passes
// work that is not done, only moves forward, and ends at the end of the
// last work.
func TestTrackerConcurrentCompletion(t *testing.T) {
	tr := newTracker()
	tr.assign(map[string][]int32{"t": {0}})
	type taken struct {
		w         *Work
		from, end int64
	}
	var (
		mu      sync.Mutex
		pending = map[int64]int64{} // work not done: from → first offset not done
	)
	work := make(chan taken, 64)
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for tk := range work {
				if rand.IntN(3) == 0 {
					mu.Lock()
					tk.w.DoneUpTo(eo(tk.from + 1))
					if tk.from+1 < tk.end {
						pending[tk.from] = tk.from + 1
					} else {
						delete(pending, tk.from) // that was all of it
					}
					mu.Unlock()
				}
				mu.Lock()
				delete(pending, tk.from)
				tk.w.Done()
				mu.Unlock()
			}
		})
	}
	stop := make(chan struct{})
	committer := make(chan error, 1)
	go func() {
		last := int64(-1)
		for {
			select {
			case <-stop:
				committer <- nil
				return
			default:
			}
			mu.Lock()
			p, ok := points(tr)[0]
			lowest := int64(math.MaxInt64)
			for _, next := range pending {
				lowest = min(lowest, next)
			}
			mu.Unlock()
			if !ok {
				continue
			}
			if p < last {
				committer <- fmt.Errorf("point moved back from %d to %d", last, p)
				return
			}
			if p > lowest {
				committer <- fmt.Errorf("point %d passed work at %d that is not done", p, lowest)
				return
			}
			last = p
			tr.committed(map[string]map[int32]kgo.EpochOffset{"t": {0: eo(p)}})
		}
	}()
	off := int64(0)
	for range 2000 {
		from := off + rand.Int64N(2) // sometimes a gap
		end := from + 1 + rand.Int64N(5)
		mu.Lock()
		pending[from] = from
		w := tr.Take("t", 0, eo(from), eo(end))
		mu.Unlock()
		work <- taken{w, from, end}
		off = end
	}
	close(work)
	wg.Wait()
	close(stop)
	if err := <-committer; err != nil {
		t.Fatal(err)
	}
	tr.mu.Lock()
	defer tr.mu.Unlock()
	if s := tr.parts[topicPartition{"t", 0}]; s.point.Offset != off || len(s.work) != 0 {
		t.Fatalf("final point %d with %d pieces of work left, want %d and none", s.point.Offset, len(s.work), off)
	}
}

// BenchmarkTracker: the cost of one piece of work (a batch of the data
// path, a record of the control plane): Take, then Done, with inflight
// pieces in flight that finish in reverse order, and a Pending read
// every 100 pieces (the commit loop).
func BenchmarkTracker(b *testing.B) {
	for _, inflight := range []int{1, 4} {
		b.Run(fmt.Sprintf("inflight=%d", inflight), func(b *testing.B) {
			tr := newTracker()
			tr.assign(map[string][]int32{"t": {0}})
			ws := make([]*Work, 0, inflight)
			off := int64(0)
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				ws = append(ws, tr.Take("t", 0, eo(off), eo(off+100)))
				off += 100
				if len(ws) == inflight {
					for j := len(ws) - 1; j >= 0; j-- {
						ws[j].Done()
					}
					ws = ws[:0]
				}
				if i%100 == 0 {
					tr.committed(tr.Pending())
				}
			}
		})
	}
}
