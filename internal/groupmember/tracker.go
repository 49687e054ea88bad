package groupmember

import (
	"fmt"
	"sync"

	"github.com/twmb/franz-go/pkg/kgo"
)

// Tracker holds, per owned partition, the work taken from it in offset
// order and the partition's commit point: the first offset not yet done.
// Work may finish in any order; the point moves past a piece of work only
// when everything before it is done too. Its methods are safe for
// concurrent use.
type Tracker struct {
	mu    sync.Mutex
	parts map[topicPartition]*partState
}

type topicPartition struct {
	topic     string
	partition int32
}

// partState is one ownership period of a partition: it starts when the
// partition is assigned and ends when it is revoked, lost or left. Work
// taken in a period refers to it, so once the period ended (owned false)
// that work's marks are ignored, even if the partition is owned again.
type partState struct {
	owned bool
	// work is the work not yet below the commit point, in offset order;
	// its head is not done.
	work []*Work
	// point is the commit point: every offset below it is done. Offset
	// -1: nothing taken yet.
	point kgo.EpochOffset
	// committed is the last point Kafka acknowledged; -1 none.
	committed int64
}

// Work is a range of offsets [from, end) of one partition being processed:
// one record, or a batch. A nil *Work (taken for a partition not owned)
// ignores every mark.
type Work struct {
	t    *Tracker
	s    *partState
	next kgo.EpochOffset // the first offset of the range not yet done
	end  kgo.EpochOffset
	done bool
}

// newTracker returns a Tracker that owns nothing (a Member assigns it).
func newTracker() *Tracker { return &Tracker{parts: make(map[topicPartition]*partState)} }

// assign starts an ownership period for every partition of parts not
// owned yet.
func (t *Tracker) assign(parts map[string][]int32) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for topic, ps := range parts {
		for _, p := range ps {
			k := topicPartition{topic, p}
			if s := t.parts[k]; s == nil || !s.owned {
				t.parts[k] = &partState{owned: true, point: kgo.EpochOffset{Epoch: -1, Offset: -1}, committed: -1}
			}
		}
	}
}

// Take records that the offsets [from, end) of a partition are being
// processed. Work must be taken in offset order, each range starting at
// or after the end of the previous one (a gap is fine: offsets that were
// never delivered, compacted away or transaction markers); taking work
// out of order panics, since the commit point would then skip work. It
// returns nil, which ignores every mark, when the partition is not owned.
func (t *Tracker) Take(topic string, partition int32, from, end kgo.EpochOffset) *Work {
	if end.Offset <= from.Offset {
		panic(fmt.Sprintf("groupmember: empty work [%d, %d) of %s/%d", from.Offset, end.Offset, topic, partition))
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	s := t.parts[topicPartition{topic, partition}]
	if s == nil || !s.owned {
		return nil
	}
	last := s.point.Offset
	if n := len(s.work); n > 0 {
		last = s.work[n-1].end.Offset
	}
	if from.Offset < last {
		panic(fmt.Sprintf("groupmember: work [%d, %d) of %s/%d taken out of offset order (after %d)",
			from.Offset, end.Offset, topic, partition, last))
	}
	w := &Work{t: t, s: s, next: from, end: end}
	s.work = append(s.work, w)
	s.advance()
	return w
}

// Done records that every offset of w is done.
func (w *Work) Done() {
	if w != nil {
		w.DoneUpTo(w.end)
	}
}

// DoneUpTo records that the offsets of w below upTo are done (all of w
// when upTo reaches its end). The rest of w stays pending: the commit
// point can reach upTo, never pass it, until w is done.
func (w *Work) DoneUpTo(upTo kgo.EpochOffset) {
	if w == nil {
		return
	}
	w.t.mu.Lock()
	defer w.t.mu.Unlock()
	if !w.s.owned || w.done {
		return
	}
	switch {
	case upTo.Offset >= w.end.Offset:
		w.done, w.next = true, w.end
	case upTo.Offset > w.next.Offset:
		w.next = upTo
	default:
		return
	}
	w.s.advance()
}

// advance moves the commit point over the done work at the head, then to
// the first offset not done of the work that remains. Called with mu held.
func (s *partState) advance() {
	i := 0
	for i < len(s.work) && s.work[i].done {
		s.raise(s.work[i].end)
		i++
	}
	switch {
	case i == len(s.work):
		clear(s.work)
		s.work = s.work[:0]
	case i > 0:
		clear(s.work[:i])
		s.work = s.work[i:]
	}
	if len(s.work) > 0 {
		s.raise(s.work[0].next)
	}
}

func (s *partState) raise(eo kgo.EpochOffset) {
	if eo.Offset > s.point.Offset {
		s.point = eo
	}
}

// Pending returns the commit points of the owned partitions that moved
// past what Kafka acknowledged, in the form kgo commits.
func (t *Tracker) Pending() map[string]map[int32]kgo.EpochOffset {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := make(map[string]map[int32]kgo.EpochOffset)
	for k, s := range t.parts {
		s.addPending(out, k)
	}
	return out
}

func (s *partState) addPending(out map[string]map[int32]kgo.EpochOffset, k topicPartition) {
	if !s.owned || s.point.Offset < 0 || s.point.Offset <= s.committed {
		return
	}
	if out[k.topic] == nil {
		out[k.topic] = make(map[int32]kgo.EpochOffset)
	}
	out[k.topic][k.partition] = s.point
}

// point returns the commit point of a partition (Offset -1: no work taken
// yet) and whether it is owned.
func (t *Tracker) point(topic string, partition int32) (kgo.EpochOffset, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	s := t.parts[topicPartition{topic, partition}]
	if s == nil || !s.owned {
		return kgo.EpochOffset{}, false
	}
	return s.point, true
}

// committed records that Kafka acknowledged offs.
func (t *Tracker) committed(offs map[string]map[int32]kgo.EpochOffset) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for topic, ps := range offs {
		for p, eo := range ps {
			if s := t.parts[topicPartition{topic, p}]; s != nil && eo.Offset > s.committed {
				s.committed = eo.Offset
			}
		}
	}
}

// disown ends the ownership of parts and returns their pending commit
// points (the revoke path).
func (t *Tracker) disown(parts map[string][]int32) map[string]map[int32]kgo.EpochOffset {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := make(map[string]map[int32]kgo.EpochOffset)
	for topic, ps := range parts {
		for _, p := range ps {
			k := topicPartition{topic, p}
			if s := t.parts[k]; s != nil {
				s.addPending(out, k)
				s.owned = false
				delete(t.parts, k)
			}
		}
	}
	return out
}

// drop ends the ownership of parts without returning anything (the loss
// path); nil drops every partition.
func (t *Tracker) drop(parts map[string][]int32) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if parts == nil {
		for k, s := range t.parts {
			s.owned = false
			delete(t.parts, k)
		}
		return
	}
	for topic, ps := range parts {
		for _, p := range ps {
			k := topicPartition{topic, p}
			if s := t.parts[k]; s != nil {
				s.owned = false
				delete(t.parts, k)
			}
		}
	}
}

// owned returns the partitions of parts that are owned; nil: all owned
// partitions. Empty topics are left out.
func (t *Tracker) owned(parts map[string][]int32) map[string][]int32 {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := make(map[string][]int32)
	if parts == nil {
		for k := range t.parts {
			out[k.topic] = append(out[k.topic], k.partition)
		}
		return out
	}
	for topic, ps := range parts {
		for _, p := range ps {
			if t.parts[topicPartition{topic, p}] != nil {
				out[topic] = append(out[topic], p)
			}
		}
	}
	return out
}
