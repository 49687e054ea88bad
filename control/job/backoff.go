package job

import (
	"math/rand/v2"
	"time"

	"github.com/seed-a550a1ef/kafka-qdrant/internal/backoff"
)

// Backoff is the project's capped exponential backoff with full jitter
// (internal/backoff): the n-th delay (from 0) is uniform in
// [0, min(Max, Initial·2ⁿ)).
type Backoff = backoff.Backoff

// Poller spaces status polls: the delay starts at Min, grows by half after
// each poll that saw no change, up to Max, and drops back to Min on change.
// Each delay is jittered uniformly in [d/2, d] ("equal jitter") so polls of
// many commands do not align yet never spin.
type Poller struct {
	Min, Max time.Duration
	cur      time.Duration
}

// Next returns the delay before the next poll; changed says whether the
// last poll saw progress.
func (p *Poller) Next(changed bool) time.Duration {
	lo := max(p.Min, time.Millisecond)
	hi := max(p.Max, lo)
	switch {
	case changed || p.cur == 0:
		p.cur = lo
	default:
		p.cur = min(p.cur+p.cur/2, hi)
	}
	half := p.cur / 2
	return half + time.Duration(rand.Int64N(int64(p.cur-half)+1))
}
