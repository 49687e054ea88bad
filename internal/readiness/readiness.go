// Package readiness runs a replica's dependency checks in the background
// and answers the readiness probe from their last results.
//
// A replica is ready only if Qdrant and Kafka answer and accept its
// credentials: a replica whose API key Qdrant rejects would otherwise join
// the group, take partitions and report ready while every write fails
// Unauthenticated (and, with no records to write, never stall). The checks
// run every Interval, each bounded by Timeout, so /readyz answers at once
// from memory and the dependencies see one call per Interval per replica,
// however often the kubelet probes.
//
//	Run ──every Interval──▶ check(ctx with Timeout) ──▶ results[name]
//	/readyz ──▶ Ready() ──▶ the failed checks' errors, joined
//
// Invariants: Ready reports a check that has not completed yet as not ready
// ("not checked yet"); a check that times out is a failure; a change of a
// check's state is logged once (warn when it fails, info when it recovers).
package readiness

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"
)

// Check is one dependency check. Run returns nil when the dependency
// answered and accepted the replica's credentials, else why not.
type Check struct {
	Name string
	Run  func(ctx context.Context) error
}

// Prober runs checks and keeps the last result of each.
type Prober struct {
	checks   []Check
	interval time.Duration
	timeout  time.Duration
	log      *slog.Logger

	mu      sync.Mutex
	results map[string]error // a check without an entry has not completed yet
}

// New returns a Prober for checks, run every interval with each run bounded
// by timeout.
func New(interval, timeout time.Duration, log *slog.Logger, checks ...Check) *Prober {
	return &Prober{checks: checks, interval: interval, timeout: timeout, log: log, results: make(map[string]error)}
}

// Run checks at once, then every interval, until ctx ends.
func (p *Prober) Run(ctx context.Context) {
	t := time.NewTicker(p.interval)
	defer t.Stop()
	for {
		for _, c := range p.checks {
			p.runOne(ctx, c)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func (p *Prober) runOne(ctx context.Context, c Check) {
	cctx, cancel := context.WithTimeout(ctx, p.timeout)
	err := c.Run(cctx)
	if err != nil && cctx.Err() != nil && ctx.Err() == nil {
		err = fmt.Errorf("no answer within %v: %w", p.timeout, err)
	}
	cancel()
	if ctx.Err() != nil {
		return // stopping: keep the last real result
	}
	p.mu.Lock()
	prev, seen := p.results[c.Name]
	p.results[c.Name] = err
	p.mu.Unlock()
	switch {
	case err != nil && (!seen || prev == nil || prev.Error() != err.Error()):
		p.log.Warn("not ready", "check", c.Name, "err", err)
	case err == nil && seen && prev != nil:
		p.log.Info("ready again", "check", c.Name)
	}
}

// Ready returns nil when every check passed its last run, else the reasons
// ("qdrant: ...", "kafka: not checked yet").
func (p *Prober) Ready() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	var errs []error
	for _, c := range p.checks {
		err, seen := p.results[c.Name]
		switch {
		case !seen:
			errs = append(errs, fmt.Errorf("%s: not checked yet", c.Name))
		case err != nil:
			errs = append(errs, fmt.Errorf("%s: %w", c.Name, err))
		}
	}
	return errors.Join(errs...)
}
