package control

// offsets tracks the control records of one ownership epoch per partition
// and tells how far the partition may be committed: up to (not including)
// the first record whose command has not reached a final state.
type offsets struct {
	parts map[int32]*partOffsets
}

type partOffsets struct {
	pending   []int64 // not yet known final, in arrival (= offset) order
	done      map[int64]bool
	target    int64 // commit point reached so far; -1 none
	committed int64 // commit point Kafka acknowledged; -1 none
}

func newOffsets() *offsets { return &offsets{parts: map[int32]*partOffsets{}} }

// add records that offset o of partition p arrived.
func (t *offsets) add(p int32, o int64) {
	po := t.parts[p]
	if po == nil {
		po = &partOffsets{done: map[int64]bool{}, target: -1, committed: -1}
		t.parts[p] = po
	}
	po.pending = append(po.pending, o)
}

// markDone records that the command of (p, o) is final.
func (t *offsets) markDone(p int32, o int64) {
	if po := t.parts[p]; po != nil {
		po.done[o] = true
	}
}

// commitPoints returns, per partition, the offset to commit (the next
// offset to consume) when it is past what Kafka acknowledged.
func (t *offsets) commitPoints() map[int32]int64 {
	out := map[int32]int64{}
	for p, po := range t.parts {
		i := 0
		for i < len(po.pending) && po.done[po.pending[i]] {
			delete(po.done, po.pending[i])
			po.target = max(po.target, po.pending[i]+1)
			i++
		}
		po.pending = po.pending[i:]
		if len(po.pending) > 0 {
			po.target = max(po.target, po.pending[0])
		}
		if po.target > po.committed {
			out[p] = po.target
		}
	}
	return out
}

// committed records that Kafka acknowledged commit point next of p.
func (t *offsets) committed(p int32, next int64) {
	if po := t.parts[p]; po != nil && next > po.committed {
		po.committed = next
	}
}
