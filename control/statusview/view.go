package statusview

import (
	"cmp"
	"slices"
	"sync"

	"github.com/seed-a550a1ef/kafka-qdrant/schemas"
)

// Position is where an event is on the status topic.
type Position struct {
	Partition int32
	Offset    int64
}

// After reports whether p comes after q in the topic. Offsets of different
// partitions are not comparable (the status topic has one partition); they
// are ordered by partition so the order is total and deterministic.
func (p Position) After(q Position) bool {
	if p.Partition != q.Partition {
		return p.Partition > q.Partition
	}
	return p.Offset > q.Offset
}

// Entry is what the view knows about one command.
type Entry struct {
	// Latest is the command's state: its last event in topic order, except
	// that a final event is never replaced by a non-final one.
	Latest schemas.Status
	// At is where Latest is on the topic.
	At Position
	// Last is where the command's last event applied (whatever its
	// state) is.
	Last Position
}

// View is the latest status of every command. It is safe for concurrent use.
type View struct {
	mu   sync.RWMutex
	byID map[string]*Entry
}

// NewView returns an empty view.
func NewView() *View { return &View{byID: map[string]*Entry{}} }

// Apply adds one event read at position at, honouring the sticky-final
// rule. Events must be applied in topic order (a Follower does); times
// are only informational.
func (v *View) Apply(s schemas.Status, at Position) {
	v.mu.Lock()
	defer v.mu.Unlock()
	e, ok := v.byID[s.CommandID]
	if !ok {
		v.byID[s.CommandID] = &Entry{Latest: s, At: at, Last: at}
		return
	}
	e.Last = at
	if e.Latest.State.Final() && !s.State.Final() {
		return
	}
	e.Latest, e.At = s, at
}

// Delete forgets a command (a tombstone on the status topic).
func (v *View) Delete(id string) {
	v.mu.Lock()
	defer v.mu.Unlock()
	delete(v.byID, id)
}

// Get returns the entry of command id.
func (v *View) Get(id string) (Entry, bool) {
	v.mu.RLock()
	defer v.mu.RUnlock()
	e, ok := v.byID[id]
	if !ok {
		return Entry{}, false
	}
	return *e, true
}

// Len is the number of commands in the view.
func (v *View) Len() int {
	v.mu.RLock()
	defer v.mu.RUnlock()
	return len(v.byID)
}

// List returns every entry, the one with the most recent event (in topic
// order) first.
func (v *View) List() []Entry {
	v.mu.RLock()
	out := make([]Entry, 0, len(v.byID))
	for _, e := range v.byID {
		out = append(out, *e)
	}
	v.mu.RUnlock()
	slices.SortFunc(out, func(a, b Entry) int {
		if c := cmp.Compare(b.Last.Partition, a.Last.Partition); c != 0 {
			return c
		}
		return cmp.Compare(b.Last.Offset, a.Last.Offset)
	})
	return out
}

// Each calls fn with every entry (in no particular order) while holding
// the view's read lock: fn must not call the view.
func (v *View) Each(fn func(Entry)) {
	v.mu.RLock()
	defer v.mu.RUnlock()
	for _, e := range v.byID {
		fn(*e)
	}
}

// LatestFinal returns the latest (in topic order) final status of a
// command of type t on collection in state st, if any.
func (v *View) LatestFinal(t schemas.CommandType, collection string, st schemas.State) (schemas.Status, bool) {
	e, ok := v.LatestFinalEntry(t, collection, st)
	return e.Latest, ok
}

// LatestFinalEntry is LatestFinal with the entry (and its position).
func (v *View) LatestFinalEntry(t schemas.CommandType, collection string, st schemas.State) (Entry, bool) {
	return v.latest(func(e *Entry) bool {
		s := e.Latest
		return s.Type == t && s.Collection == collection && s.State == st
	})
}

// latest returns the matching entry whose Latest is last in topic order.
func (v *View) latest(match func(*Entry) bool) (Entry, bool) {
	v.mu.RLock()
	defer v.mu.RUnlock()
	var best *Entry
	for _, e := range v.byID {
		if match(e) && (best == nil || e.At.After(best.At)) {
			best = e
		}
	}
	if best == nil {
		return Entry{}, false
	}
	return *best, true
}
