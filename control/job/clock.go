package job

import (
	"context"
	"time"
)

// Clock is the time source of handlers: deadlines are measured with Now and
// waits use After. Tests inject a clock (or run under testing/synctest,
// where the real clock is fake).
type Clock interface {
	Now() time.Time
	After(d time.Duration) <-chan time.Time
}

// RealClock is the wall clock.
var RealClock Clock = realClock{}

type realClock struct{}

func (realClock) Now() time.Time                         { return time.Now() }
func (realClock) After(d time.Duration) <-chan time.Time { return time.After(d) }

// Sleep waits d on clk or until ctx ends; it returns context.Cause(ctx) in
// the latter case.
func Sleep(ctx context.Context, clk Clock, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return context.Cause(ctx)
	}
	if d <= 0 {
		return nil
	}
	select {
	case <-ctx.Done():
		return context.Cause(ctx)
	case <-clk.After(d):
		return nil
	}
}
