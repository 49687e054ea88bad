package sink

import (
	"context"
	"math/rand/v2"
	"time"

	"github.com/seed-a550a1ef/kafka-qdrant/config"
	kqbackoff "github.com/seed-a550a1ef/kafka-qdrant/internal/backoff"
)

// Backoff defaults, used when config.Retry leaves a bound at zero.
const (
	defaultInitialBackoff = kqbackoff.DefaultInitial
	defaultMaxBackoff     = kqbackoff.DefaultMax
)

// clock is the time source of the writer: sleeping and jitter of the retry
// loops, and the age of cached collection configs. Tests replace it to run
// retry loops without waiting.
type clock struct {
	// now returns the current time.
	now func() time.Time
	// sleep waits d or until ctx ends, whichever is first, and returns
	// ctx.Err() in the latter case.
	sleep func(ctx context.Context, d time.Duration) error
	// jitter returns a uniform random duration in [0, n); n > 0.
	jitter func(n time.Duration) time.Duration
}

// realClock sleeps on a timer and draws jitter from math/rand/v2 (safe for
// concurrent use).
var realClock = clock{
	now:    time.Now,
	sleep:  kqbackoff.Sleep,
	jitter: func(n time.Duration) time.Duration { return time.Duration(rand.Int64N(int64(n))) },
}

// backoff binds the project's capped exponential backoff with full jitter
// (internal/backoff) to a context and the writer's clock, and honours
// Qdrant's retry-after hint. Use it as
//
//	b := newBackoff(ctx, cfg, clk)
//	for b.Ongoing() {
//		if err := try(); err == nil { return nil }
//		b.Wait(hint)
//	}
//	return b.Err()
//
// The n-th retry (from 0) sleeps a uniform random time in
// [0, min(max, initial·2ⁿ)), or the hint if that is longer. Ongoing reports
// false once ctx has ended, so the loop stops within one sleep of
// cancellation. A backoff is used by one goroutine.
type backoff struct {
	ctx context.Context
	clk clock
	b   kqbackoff.Backoff
}

func newBackoff(ctx context.Context, cfg config.Retry, clk clock) *backoff {
	initial, maxDelay := cfg.InitialBackoff, cfg.MaxBackoff
	if initial <= 0 {
		initial = defaultInitialBackoff
	}
	if maxDelay <= 0 {
		maxDelay = defaultMaxBackoff
	}
	return &backoff{ctx: ctx, clk: clk, b: kqbackoff.Backoff{Initial: initial, Max: maxDelay, Jitter: clk.jitter}}
}

// Ongoing reports whether the context is still alive.
func (b *backoff) Ongoing() bool { return b.ctx.Err() == nil }

// Err is the context's error once Ongoing is false; nil before.
func (b *backoff) Err() error { return b.ctx.Err() }

// Retries is the number of delays handed out so far (Next or Wait).
func (b *backoff) Retries() int { return b.b.Attempts() }

// Next returns the sleep of the next retry and counts it: a uniform random
// time in [0, min(max, initial·2ⁿ)) for the n-th retry, or hint if longer.
func (b *backoff) Next(hint time.Duration) time.Duration {
	return max(b.b.Next(), hint)
}

// Sleep sleeps d or until the context ends.
func (b *backoff) Sleep(d time.Duration) { _ = b.clk.sleep(b.ctx, d) }

// Wait sleeps the next delay (see Next) or until the context ends, and
// returns the delay it chose.
func (b *backoff) Wait(hint time.Duration) time.Duration {
	d := b.Next(hint)
	b.Sleep(d)
	return d
}
