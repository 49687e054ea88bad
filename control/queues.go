package control

import (
	"slices"

	"github.com/seed-a550a1ef/kafka-qdrant/schemas"
)

// Commands that touch the same collection run one at a time, in the order
// they arrived: each execution joins one queue per collection it touches
// (its own, and those its handler names: a restore's target and alias) and
// runs once it heads every one of them. Two executions sharing queues
// joined them all in the same order (queueLocked runs under r.mu), so the
// one that arrived first heads all the shared queues before the other:
// no two wait for each other.

// collectionsToucher is implemented by handlers whose commands act on
// collections besides the command's own (restore: its target and alias).
type collectionsToucher interface {
	Touches(cmd schemas.Command) []string
}

// queueKeys are the queues cmd joins: one per collection it touches; a
// command without a collection, and cancel, join a queue of their own
// (serialized with nothing).
func queueKeys(cmd schemas.Command, h any) []string {
	if cmd.Collection == "" || cmd.Type == schemas.CommandCancel {
		return []string{"id:" + cmd.ID}
	}
	keys := []string{"c:" + cmd.Collection}
	if t, ok := h.(collectionsToucher); ok {
		for _, c := range t.Touches(cmd) {
			if k := "c:" + c; c != "" && !slices.Contains(keys, k) {
				keys = append(keys, k)
			}
		}
	}
	return keys
}

// queueLocked appends e to its queues and starts it when it heads them
// all. r.mu is held.
func (r *Runner) queueLocked(e *execution) {
	for _, k := range e.keys {
		r.queues[k] = append(r.queues[k], e)
	}
	if r.headsLocked(e) {
		r.startLocked(e)
		return
	}
	var behind []string
	for _, k := range e.keys {
		if q := r.queues[k]; q[0] != e && !slices.Contains(behind, q[0].cmd.ID) {
			behind = append(behind, q[0].cmd.ID)
		}
	}
	r.log.Info("command queued behind another on the same collection", "id", e.cmd.ID, "collection", e.cmd.Collection,
		"queues", e.keys, "behind", behind)
}

// headsLocked reports whether e is first in each of its queues.
func (r *Runner) headsLocked(e *execution) bool {
	for _, k := range e.keys {
		if q := r.queues[k]; len(q) == 0 || q[0] != e {
			return false
		}
	}
	return true
}

// dequeueLocked removes e from its queues (it stays in flight: duplicates
// arriving meanwhile still join it) and starts the commands that now head
// all of theirs.
func (r *Runner) dequeueLocked(e *execution) {
	var next []*execution
	for _, k := range e.keys {
		q := r.queues[k]
		i := slices.Index(q, e)
		if i < 0 {
			continue
		}
		q = append(q[:i:i], q[i+1:]...)
		if len(q) == 0 {
			delete(r.queues, k)
			continue
		}
		r.queues[k] = q
		if i == 0 {
			next = append(next, q[0])
		}
	}
	for _, n := range next {
		if e.ep == r.ep && n.ep == r.ep && !n.started && r.headsLocked(n) {
			r.startLocked(n)
		}
	}
}
