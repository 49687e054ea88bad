package index

import (
	"context"
	"errors"
	"time"

	"github.com/seed-a550a1ef/kafka-qdrant/control/job"
	"github.com/seed-a550a1ef/kafka-qdrant/schemas"
)

// caller runs Qdrant calls for one command with the control plane's one
// policy for Qdrant failures (job.QdrantPolicy). deadline (zero: none) is
// the command's timeout: retrying stops there with a timeout error.
type caller struct {
	o          Options
	collection string
	deadline   time.Time
	timeout    time.Duration
}

// do runs op until it succeeds, fails in a way not retried, its retries
// run out (transient failures after o.RetryFor, Internal errors after
// o.InternalAttempts attempts), the deadline passes or ctx ends (returning
// context.Cause). Each attempt gets o.CallTimeout; a retry waits at least
// Qdrant's retry-after.
func (c *caller) do(ctx context.Context, what string, op func(ctx context.Context) error) error {
	b := job.Budget{Backoff: job.Backoff{Initial: c.o.RetryInitial, Max: c.o.RetryMax},
		RetryFor: c.o.RetryFor, BriefAttempts: c.o.InternalAttempts}
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
		now := c.o.Clock.Now()
		d, retry := b.Next(now, p)
		if !retry {
			return c.fail(what, p, &b, now, err)
		}
		if err := c.checkDeadline(what); err != nil {
			return err
		}
		d = c.untilDeadline(now, d)
		c.o.Log.Warn("qdrant call failed, retrying", "op", what, "collection", c.collection,
			"attempt", b.Failures(), "backoff", d, "err", err)
		if err := job.Sleep(ctx, c.o.Clock, d); err != nil {
			return err
		}
	}
}

// policyOf is what the handlers do about err: Qdrant's failures by the
// control plane's table (job.QdrantPolicy); a *job.Error keeps its code;
// anything else (a decoding failure) fails the command qdrant_error.
func policyOf(err error) job.Policy {
	var je *job.Error
	if errors.As(err, &je) {
		return job.Policy{Code: je.Code, Retryable: je.Retryable}
	}
	if p, ok := job.QdrantPolicy(err); ok {
		return p
	}
	return job.Policy{Code: schemas.ErrQdrant}
}

// fail is the command's error for err, which policy p no longer retries.
func (c *caller) fail(what string, p job.Policy, b *job.Budget, now time.Time, err error) error {
	var je *job.Error
	switch {
	case errors.As(err, &je):
		return err
	case p.Code == schemas.ErrCollectionNotFound:
		return p.Errorf("%s: collection %q does not exist: %w", what, c.collection, err)
	case p.Retry == job.RetryBrief:
		return p.Errorf("%s of %q: Qdrant internal error after %d attempts: %w", what, c.collection, b.Failures(), err)
	case p.Retry == job.RetryTransient:
		return p.Errorf("%s of %q: Qdrant failing for %s (%d attempts): %w",
			what, c.collection, b.Failing(now).Round(time.Millisecond), b.Failures(), err)
	}
	return p.Errorf("%s of %q: %w", what, c.collection, err)
}

// untilDeadline cuts a wait of d starting at now so that it ends at the
// deadline at the latest, however little is left: the next checkDeadline
// then fires exactly there. A wait cut to zero or less does not sleep.
func (c *caller) untilDeadline(now time.Time, d time.Duration) time.Duration {
	if c.deadline.IsZero() {
		return d
	}
	return min(d, c.deadline.Sub(now))
}

// checkDeadline returns the timeout error once the deadline has passed.
func (c *caller) checkDeadline(what string) error {
	if c.deadline.IsZero() || c.o.Clock.Now().Before(c.deadline) {
		return nil
	}
	return job.Errorf(schemas.ErrTimeout, true, "index_build of %q: timeout %s passed while %s", c.collection, c.timeout, what)
}
