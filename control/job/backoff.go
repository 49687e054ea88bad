package job

import (
	"math/rand/v2"
	"time"
)

// Backoff is a capped exponential backoff with full jitter, for retrying
// transient failures: the n-th delay (from 0) is uniform in
// [0, min(Max, Initial·2ⁿ)). It is used by one goroutine.
type Backoff struct {
	Initial, Max time.Duration
	attempt      int
}

// Next returns the next delay and advances.
func (b *Backoff) Next() time.Duration {
	ceil := b.ceiling()
	b.attempt++
	return time.Duration(rand.Int64N(int64(ceil))) + 1
}

func (b *Backoff) ceiling() time.Duration {
	ini, max := b.Initial, b.Max
	if ini <= 0 {
		ini = 100 * time.Millisecond
	}
	if max < ini {
		max = ini
	}
	c := ini
	for i := 0; i < b.attempt && c < max; i++ {
		c *= 2
	}
	return min(c, max)
}

// Attempts is how many delays Next returned since the last Reset.
func (b *Backoff) Attempts() int { return b.attempt }

// Reset starts over from Initial.
func (b *Backoff) Reset() { b.attempt = 0 }

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
