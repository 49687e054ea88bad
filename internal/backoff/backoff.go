// Package backoff is the one retry delay of the project: capped exponential
// backoff with full jitter (AWS Architecture Blog, "Exponential Backoff And
// Jitter"). Every retry loop (the Qdrant writer, the DLQ producer, the
// control plane) takes its delays from here, so they are all bounded and
// jittered the same way.
package backoff

import (
	"context"
	"math/rand/v2"
	"time"
)

// Defaults used when Initial or Max is zero.
const (
	DefaultInitial = 100 * time.Millisecond
	DefaultMax     = 10 * time.Second
)

// Backoff hands out retry delays: the n-th delay (from 0) is uniform in
// [0, min(Max, Initial·2ⁿ)). The zero value uses the defaults.
// A Backoff is used by one goroutine.
type Backoff struct {
	Initial, Max time.Duration
	// Jitter returns a uniform random duration in [0, n); nil uses
	// math/rand/v2. Tests inject a deterministic one.
	Jitter  func(n time.Duration) time.Duration
	attempt int
}

// Next returns the next delay and counts it.
func (b *Backoff) Next() time.Duration {
	ceil := b.Ceiling()
	b.attempt++
	jitter := b.Jitter
	if jitter == nil {
		jitter = uniform
	}
	return jitter(ceil)
}

// Ceiling is the upper bound of the next delay.
func (b *Backoff) Ceiling() time.Duration {
	initial, maxDelay := b.Initial, b.Max
	if initial <= 0 {
		initial = DefaultInitial
	}
	if maxDelay <= 0 {
		maxDelay = DefaultMax
	}
	maxDelay = max(maxDelay, initial)
	c := initial
	for i := 0; i < b.attempt && c < maxDelay; i++ {
		c *= 2
	}
	return min(c, maxDelay)
}

// Attempts is how many delays Next returned since the last Reset.
func (b *Backoff) Attempts() int { return b.attempt }

// Reset starts over from Initial (after a success).
func (b *Backoff) Reset() { b.attempt = 0 }

func uniform(n time.Duration) time.Duration { return time.Duration(rand.Int64N(int64(n))) }

// Sleep waits d or until ctx ends, whichever is first; it returns ctx.Err()
// in the latter case.
func Sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
