package index

import (
	"context"
	"time"

	"github.com/seed-a550a1ef/kafka-qdrant/control/job"
	"github.com/seed-a550a1ef/kafka-qdrant/schemas"
)

// caller runs Qdrant calls for one command with the retry policy of the
// package doc. deadline (zero: none) is the command's timeout: retrying
// stops there with a timeout error.
type caller struct {
	o          Options
	collection string
	deadline   time.Time
	timeout    time.Duration
}

// do runs op until it succeeds, fails in a way not retried (policyOf),
// transient failures outlast o.RetryFor, Internal errors o.InternalAttempts,
// the deadline passes or ctx ends (returning context.Cause). Each attempt
// gets o.CallTimeout; a retry waits at least Qdrant's retry-after.
func (c *caller) do(ctx context.Context, what string, op func(ctx context.Context) error) error {
	b := job.Backoff{Initial: c.o.RetryInitial, Max: c.o.RetryMax}
	var since time.Time
	internal := 0
	for {
		callCtx, cancel := context.WithTimeout(ctx, c.o.CallTimeout)
		err := op(callCtx)
		cancel()
		if err == nil {
			return nil
		}
		if ctx.Err() != nil {
			return context.Cause(ctx)
		}
		p := policyOf(err)
		switch p.retry {
		case noRetry:
			return permanentError(what, c.collection, err)
		case retryBrief:
			if internal++; internal >= c.o.InternalAttempts {
				return job.Errorf(schemas.ErrQdrant, false, "%s of %q: Qdrant internal error after %d attempts: %w", what, c.collection, internal, err)
			}
		}
		now := c.o.Clock.Now()
		if since.IsZero() {
			since = now
		}
		if now.Sub(since) >= c.o.RetryFor {
			return job.Errorf(schemas.ErrUnavailable, true, "%s of %q: Qdrant failing for %s (%d attempts): %w",
				what, c.collection, now.Sub(since).Round(time.Millisecond), b.Attempts()+1, err)
		}
		if err := c.checkDeadline(what); err != nil {
			return err
		}
		d := max(b.Next(), p.after)
		if !c.deadline.IsZero() {
			d = min(d, max(c.deadline.Sub(now), time.Millisecond))
		}
		c.o.Log.Warn("qdrant call failed, retrying", "op", what, "collection", c.collection,
			"attempt", b.Attempts(), "backoff", d, "err", err)
		if err := job.Sleep(ctx, c.o.Clock, d); err != nil {
			return err
		}
	}
}

// checkDeadline returns the timeout error once the deadline has passed.
func (c *caller) checkDeadline(what string) error {
	if c.deadline.IsZero() || c.o.Clock.Now().Before(c.deadline) {
		return nil
	}
	return job.Errorf(schemas.ErrTimeout, true, "index_build of %q: timeout %s passed while %s", c.collection, c.timeout, what)
}
