package statusview

import (
	"slices"
	"sync"
	"time"

	"github.com/seed-a550a1ef/kafka-qdrant/schemas"
)

// Entry is what the view knows about one command.
type Entry struct {
	// Latest is the command's state: its last event, except that a final
	// event is never replaced by a non-final one.
	Latest schemas.Status
	// First is the time of the command's first event.
	First time.Time
	// Events counts the events seen for the command.
	Events int
}

// View is the latest status of every command. It is safe for concurrent use.
type View struct {
	mu   sync.RWMutex
	byID map[string]*Entry
}

// NewView returns an empty view.
func NewView() *View { return &View{byID: map[string]*Entry{}} }

// Apply adds one event, honouring the sticky-final rule.
func (v *View) Apply(s schemas.Status) {
	v.mu.Lock()
	defer v.mu.Unlock()
	e, ok := v.byID[s.CommandID]
	if !ok {
		v.byID[s.CommandID] = &Entry{Latest: s, First: s.Time, Events: 1}
		return
	}
	e.Events++
	if s.Time.Before(e.First) {
		e.First = s.Time
	}
	if e.Latest.State.Final() && !s.State.Final() {
		return
	}
	e.Latest = s
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

// List returns every entry, most recent event first (ties by id).
func (v *View) List() []Entry {
	v.mu.RLock()
	out := make([]Entry, 0, len(v.byID))
	for _, e := range v.byID {
		out = append(out, *e)
	}
	v.mu.RUnlock()
	slices.SortFunc(out, func(a, b Entry) int {
		if c := b.Latest.Time.Compare(a.Latest.Time); c != 0 {
			return c
		}
		if a.Latest.CommandID < b.Latest.CommandID {
			return -1
		}
		return 1
	})
	return out
}

// LatestFinal returns the most recent final status of a command of type t
// on collection in state st, if any.
func (v *View) LatestFinal(t schemas.CommandType, collection string, st schemas.State) (schemas.Status, bool) {
	v.mu.RLock()
	defer v.mu.RUnlock()
	var best schemas.Status
	found := false
	for _, e := range v.byID {
		s := e.Latest
		if s.Type != t || s.Collection != collection || s.State != st {
			continue
		}
		if !found || s.Time.After(best.Time) {
			best, found = s, true
		}
	}
	return best, found
}
