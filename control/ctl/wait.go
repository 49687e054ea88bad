package ctl

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/seed-a550a1ef/kafka-qdrant/control/statusview"
	"github.com/seed-a550a1ef/kafka-qdrant/schemas"
)

// follow starts a follower of the status topic; stop ends it.
func follow(ctx context.Context, env Env) (f *statusview.Follower, stop func(), err error) {
	f, err = statusview.NewFollower(env.KafkaOpts, env.Control.StatusTopic, statusview.NewView(),
		slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		return nil, nil, err
	}
	fctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { defer close(done); _ = f.Run(fctx) }()
	return f, func() { cancel(); <-done; f.Close() }, nil
}

// sync catches up with the status topic, bounded.
func catchUp(ctx context.Context, f *statusview.Follower, topic string) error {
	sctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := f.Sync(sctx); err != nil {
		return fmt.Errorf("reading status topic %s: %w", topic, err)
	}
	return nil
}

// waitFinal follows the status of id, printing each new state it sees,
// until it is final (exit 0 succeeded, 1 failed or cancelled) or limit
// passes (exit 3; 0 = no limit).
func waitFinal(ctx context.Context, env Env, id string, limit time.Duration, p printer) error {
	f, stop, err := follow(ctx, env)
	if err != nil {
		return err
	}
	defer stop()
	wctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	if limit > 0 {
		t := time.AfterFunc(limit, func() { cancel(errWaitTimeout) })
		defer t.Stop()
	}
	var last schemas.Status
	var seen bool
	err = f.WaitFor(wctx, func(v *statusview.View) bool {
		e, ok := v.Get(id)
		if !ok {
			return false
		}
		if !seen || !sameEvent(e.Latest, last) {
			p.status(e.Latest)
			last, seen = e.Latest, true
		}
		return e.Latest.State.Final()
	})
	switch {
	case errors.Is(err, errWaitTimeout):
		state := "nothing yet (is a replica running?)"
		if seen {
			state = string(last.State)
		}
		return &outcomeError{code: ExitTimedOut, msg: fmt.Sprintf("timed out after %s waiting for %s; last state: %s (the command may still finish: kafka-qdrant ctl status %s)", limit, id, state, id)}
	case err != nil:
		return &outcomeError{code: ExitFailed, msg: fmt.Sprintf("stopped waiting for %s: %v (the command may still finish)", id, err)}
	}
	return outcome(last)
}

var errWaitTimeout = errors.New("wait timed out")

func sameEvent(a, b schemas.Status) bool {
	ea, _ := a.Encode()
	eb, _ := b.Encode()
	return string(ea) == string(eb)
}

// outcome maps a final status to the exit code.
func outcome(s schemas.Status) error {
	switch s.State {
	case schemas.StateSucceeded:
		return nil
	case schemas.StateFailed, schemas.StateCancelled:
		return &outcomeError{code: ExitFailed}
	}
	return nil
}

func statusCommand(ctx context.Context, args []string, env Env) error {
	fs := newFlagSet("ctl status", env.Stderr)
	output := fs.String("output", "text", "text or json")
	wait := fs.Bool("wait", false, "wait for the final state (exit code tells the outcome)")
	var timeout durationFlag
	fs.Var(&timeout, "timeout", "with --wait: give up after this long (exit 3)")
	limit := fs.Int("limit", 20, "without ID: show at most this many commands")
	pos, err := parse(fs, args)
	if err != nil {
		return usageErrorf("%v", err)
	}
	if len(pos) == 0 && !*wait {
		// `ctl status` with no id is `ctl list`.
		return list(ctx, env, *limit, *output)
	}
	if len(pos) != 1 {
		return usageErrorf("ctl status takes at most one command id (and --wait needs one)")
	}
	if *output != "text" && *output != "json" {
		return usageErrorf("--output must be text or json, got %q", *output)
	}
	p := printer{w: env.Stdout, json: *output == "json"}
	if *wait {
		return waitFinal(ctx, env, pos[0], timeout.d, p)
	}
	f, stop, err := follow(ctx, env)
	if err != nil {
		return err
	}
	defer stop()
	if err := catchUp(ctx, f, env.Control.StatusTopic); err != nil {
		return err
	}
	e, ok := f.View().Get(pos[0])
	if !ok {
		return &outcomeError{code: ExitFailed, msg: fmt.Sprintf("no status for command %s in %s", pos[0], env.Control.StatusTopic)}
	}
	p.status(e.Latest)
	return nil
}

func listCommand(ctx context.Context, args []string, env Env) error {
	fs := newFlagSet("ctl list", env.Stderr)
	output := fs.String("output", "text", "text or json")
	limit := fs.Int("limit", 20, "show at most this many commands, most recent first (0: all)")
	pos, err := parse(fs, args)
	if err != nil {
		return usageErrorf("%v", err)
	}
	if len(pos) != 0 {
		return usageErrorf("ctl list takes no arguments")
	}
	return list(ctx, env, *limit, *output)
}

// list prints the latest status of the most recent commands.
func list(ctx context.Context, env Env, limit int, output string) error {
	if output != "text" && output != "json" {
		return usageErrorf("--output must be text or json, got %q", output)
	}
	f, stop, err := follow(ctx, env)
	if err != nil {
		return err
	}
	defer stop()
	if err := catchUp(ctx, f, env.Control.StatusTopic); err != nil {
		return err
	}
	p := printer{w: env.Stdout, json: output == "json"}
	entries := f.View().List()
	if limit > 0 && len(entries) > limit {
		entries = entries[:limit]
	}
	for _, e := range entries {
		p.status(e.Latest)
	}
	if len(entries) == 0 && !p.json {
		fmt.Fprintf(env.Stdout, "no commands in %s\n", env.Control.StatusTopic)
	}
	return nil
}
