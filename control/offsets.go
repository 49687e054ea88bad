package control

import (
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/seed-a550a1ef/kafka-qdrant/internal/groupmember"
)

// offsets are the control records of one ownership epoch, each a piece of
// work in the control group member's tracker: it is done when the record's
// command reached a final state, and the tracker commits a partition up to
// (not including) the first record whose command is not final. Guarded by
// Runner.mu.
type offsets struct {
	work map[int32]map[int64]*groupmember.Work
}

func newOffsets() *offsets { return &offsets{work: map[int32]map[int64]*groupmember.Work{}} }

// take records that rec arrived (records arrive in offset order).
func (t *offsets) take(m *groupmember.Member, rec *kgo.Record) {
	w := m.Take(rec.Topic, rec.Partition,
		kgo.EpochOffset{Epoch: rec.LeaderEpoch, Offset: rec.Offset},
		kgo.EpochOffset{Epoch: rec.LeaderEpoch, Offset: rec.Offset + 1})
	if w == nil {
		return // not owned (the epoch is ending): never committed
	}
	if t.work[rec.Partition] == nil {
		t.work[rec.Partition] = map[int64]*groupmember.Work{}
	}
	t.work[rec.Partition][rec.Offset] = w
}

// markDone records that the command of (p, o) is final.
func (t *offsets) markDone(p int32, o int64) {
	if w := t.work[p][o]; w != nil {
		w.Done()
		delete(t.work[p], o)
	}
}
