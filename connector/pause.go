package connector

import (
	"sync"

	"github.com/twmb/franz-go/pkg/kgo"
)

// pauseReason is why fetching of a partition is paused; a partition is
// fetched again only when no reason is left.
type pauseReason uint8

const (
	// reasonStalled: the partition's batch has been retrying for a while
	// (Qdrant unavailable, locked, rate limiting).
	reasonStalled pauseReason = 1 << iota
	// reasonStopped: a bad record without a DLQ stopped the partition.
	reasonStopped
	// reasonDataPause: a data pause holds the partition (datapause.go).
	reasonDataPause
)

// pauser owns every PauseFetchPartitions / ResumeFetchPartitions call, so
// independent reasons cannot resume each other's pauses. Pausing is for
// exceptional states only: resuming a partition can wait for a fetch in
// flight (up to kafka.fetch_max_wait), so the normal memory bound gates
// polling instead (Connector.waitForRoom).
type pauser struct {
	cl *kgo.Client
	m  *metrics

	mu      sync.Mutex
	reasons map[tp]pauseReason
	// forgotten, when set, learns of every partition forgotten.
	forgotten func(tp)
}

func newPauser(cl *kgo.Client, m *metrics) *pauser {
	return &pauser{cl: cl, m: m, reasons: make(map[tp]pauseReason)}
}

func (ps *pauser) set(key tp, r pauseReason, on bool) {
	ps.mu.Lock()
	defer ps.mu.Unlock()
	before := ps.reasons[key]
	after := before &^ r
	if on {
		after |= r
	}
	ps.apply(key, before, after)
}

// paused reports whether fetching of key is paused, for any reason: no
// fetch brings its high watermark.
func (ps *pauser) paused(key tp) bool {
	ps.mu.Lock()
	defer ps.mu.Unlock()
	return ps.reasons[key] != 0
}

// forget resumes and forgets a partition that is no longer owned: kgo
// keeps pauses across rebalances, and a partition assigned again later
// must be fetched.
func (ps *pauser) forget(key tp) {
	ps.mu.Lock()
	if before := ps.reasons[key]; before != 0 {
		ps.apply(key, before, 0)
	}
	ps.mu.Unlock()
	if ps.forgotten != nil {
		ps.forgotten(key)
	}
}

func (ps *pauser) apply(key tp, before, after pauseReason) {
	if after == 0 {
		delete(ps.reasons, key)
	} else {
		ps.reasons[key] = after
	}
	if (before == 0) == (after == 0) {
		return
	}
	m := map[string][]int32{key.topic: {key.partition}}
	if after != 0 {
		ps.cl.PauseFetchPartitions(m)
	} else {
		ps.cl.ResumeFetchPartitions(m)
	}
	ps.m.paused.Set(float64(len(ps.reasons)))
}
