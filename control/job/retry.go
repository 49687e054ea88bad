package job

import "time"

// Retry is how a handler retries a failed call within a command.
type Retry uint8

const (
	// NoRetry: the command fails at once.
	NoRetry Retry = iota
	// RetryTransient: with backoff, waiting at least Policy.After, for up
	// to the handler's RetryFor (Budget.RetryFor) since the step's first
	// failure.
	RetryTransient
	// RetryBrief: a few attempts in all (Budget.BriefAttempts), within
	// RetryFor too: a failure a retry rarely fixes (Qdrant's Internal).
	RetryBrief
)

// DefaultBriefAttempts is how many attempts a RetryBrief failure gets
// unless a handler configures otherwise.
const DefaultBriefAttempts = 3

// Policy is what a handler does about one failed call: how it retries
// it, and the command's error once it does not, or no longer (Err).
type Policy struct {
	Retry Retry
	// After is the least wait before the next attempt (a server's
	// retry-after hint); zero when none.
	After time.Duration
	// Code and Retryable are the command's error (an *Error) when the
	// call is not retried or its retries ran out.
	Code      string
	Retryable bool
}

// Errorf returns the command's error under p (%w wraps).
func (p Policy) Errorf(format string, args ...any) *Error {
	return Errorf(p.Code, p.Retryable, format, args...)
}

// Budget is the retry budget of one step of a command (one call repeated
// until it succeeds): Next says, for each failure, whether to try again
// and after how long. Backoff, RetryFor and BriefAttempts must be set; a
// Budget serves one step and is not safe for concurrent use.
type Budget struct {
	Backoff Backoff
	// RetryFor bounds how long a step may keep failing, from its first
	// failure.
	RetryFor time.Duration
	// BriefAttempts bounds the attempts of a step whose failures are
	// RetryBrief (DefaultBriefAttempts is the usual value).
	BriefAttempts int

	since    time.Time
	failures int
	brief    int
}

// Next records a failed attempt whose policy is p, at now. It returns the
// wait before the next attempt (at least p.After), or ok false when the
// step ends: p does not retry, RetryBrief failures reached BriefAttempts,
// or the step has failed for RetryFor. The caller then fails the command
// with p.Errorf.
func (b *Budget) Next(now time.Time, p Policy) (wait time.Duration, ok bool) {
	b.failures++
	if b.since.IsZero() {
		b.since = now
	}
	switch p.Retry {
	case NoRetry:
		return 0, false
	case RetryBrief:
		if b.brief++; b.brief >= b.BriefAttempts {
			return 0, false
		}
	}
	if now.Sub(b.since) >= b.RetryFor {
		return 0, false
	}
	return max(b.Backoff.Next(), p.After), true
}

// Failures is how many failed attempts Next recorded.
func (b *Budget) Failures() int { return b.failures }

// Failing is how long the step has been failing at now (zero before the
// first failure).
func (b *Budget) Failing(now time.Time) time.Duration {
	if b.since.IsZero() {
		return 0
	}
	return now.Sub(b.since)
}
