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

// follow starts a follower of the status topic (observe, when set, sees
// every event; with ids, only the events of those commands are read);
// stop ends it.
func follow(ctx context.Context, env Env, observe func(schemas.Status, statusview.Position), ids ...string) (f *statusview.Follower, stop func(), err error) {
	f, err = statusview.NewFollower(env.KafkaOpts, env.Control.StatusTopic, statusview.NewView(),
		slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		return nil, nil, err
	}
	if observe != nil {
		f.SetObserver(observe)
	}
	if len(ids) > 0 {
		f.KeepOnly(ids...)
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

// sent is the control record ctl produced, when it waits for the answer
// to its own command.
type sent struct {
	partition int32
	offset    int64
	key       []byte
	value     []byte
	// after is where the status topic ended before the send: events of
	// the id before it answer an earlier command with the same id.
	after map[int32]int64
}

// waitFinal follows the status of id, printing each event that shows
// something new (sameShown: not a mere new checkpoint), until it is final (exit 0 succeeded, 1 failed or cancelled), limit
// passes (exit 3; 0 = no limit) or the status topic cannot be read for
// env.KafkaDownAfter (exit 1). With s (ctl sent the command), only events
// published after the send count, and a rejection of the record under a
// generated kq-invalid-… id (its id was unusable or taken) is reported.
func waitFinal(ctx context.Context, env Env, id string, limit time.Duration, p printer, s *sent) error {
	var invalidID string
	if s != nil {
		invalidID = schemas.InvalidCommandID(s.partition, s.offset, s.key, s.value)
	}
	// Every event of id (after the send) and of the record's generated id,
	// in topic order; the wait condition drains them (same lock).
	var pending []schemas.Status
	f, stop, err := follow(ctx, env, func(st schemas.Status, at statusview.Position) {
		switch {
		case st.CommandID == invalidID:
		case st.CommandID != id, s != nil && at.Offset < s.after[at.Partition]:
			return
		}
		pending = append(pending, st)
	}, id, invalidID)
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
	go watchKafka(wctx, f, env.KafkaDownAfter, cancel)
	if s == nil {
		// Waiting on a command sent earlier: its state so far, then what
		// follows.
		if err = catchUp(wctx, f, env.Control.StatusTopic); err == nil {
			_ = f.WaitFor(wctx, func(v *statusview.View) bool {
				pending = pending[:0]
				if e, ok := v.Get(id); ok {
					pending = append(pending, e.Latest)
				}
				return true
			})
		}
	}
	var last schemas.Status
	var seen, rejected, done bool
	if err == nil {
		err = f.WaitFor(wctx, func(v *statusview.View) bool {
			for _, st := range pending {
				if done || seen && sameShown(st, last) {
					continue
				}
				p.status(st)
				last, seen = st, true
				rejected = st.CommandID == invalidID
				done = rejected || st.State.Final()
			}
			pending = pending[:0]
			return done
		})
	}
	switch {
	case errors.Is(err, errWaitTimeout):
		state := "nothing yet (is a replica running?)"
		if seen {
			state = string(last.State)
		}
		return &outcomeError{code: ExitTimedOut, msg: fmt.Sprintf("timed out after %s waiting for %s; last state: %s (the command may still finish: kafka-qdrant ctl status %s)", limit, id, state, id)}
	case err != nil:
		return &outcomeError{code: ExitFailed, msg: fmt.Sprintf("stopped waiting for %s: %v (the command may still finish: kafka-qdrant ctl status %s)", id, err, id)}
	case rejected:
		msg := fmt.Sprintf("command %s was rejected; its failed status is under the generated id %s", id, last.CommandID)
		if last.Error != nil {
			msg += ": " + last.Error.Message
		}
		return &outcomeError{code: ExitFailed, msg: msg}
	}
	return outcome(last)
}

var errWaitTimeout = errors.New("wait timed out")

// watchKafka cancels ctx once the status topic could not be read for
// downAfter.
func watchKafka(ctx context.Context, f *statusview.Follower, downAfter time.Duration, cancel context.CancelCauseFunc) {
	if downAfter <= 0 {
		downAfter = 30 * time.Second
	}
	t := time.NewTicker(min(downAfter/4, time.Second))
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if since, err := f.Failing(); !since.IsZero() && time.Since(since) >= downAfter {
			cancel(fmt.Errorf("cannot read the status topic for %s (Kafka unreachable?): %w", time.Since(since).Round(time.Second), err))
			return
		}
	}
}

// sameShown reports whether a shows nothing b did not: the same state,
// progress, error, result and replica. Its time and checkpoint do not
// count: every running event of a command with a checkpoint carries the
// latest one and repeats the latest progress, so a new checkpoint alone is
// no news to print.
func sameShown(a, b schemas.Status) bool {
	a.Time, b.Time = time.Time{}, time.Time{}
	a.Checkpoint, b.Checkpoint = nil, nil
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
		return waitFinal(ctx, env, pos[0], timeout.d, p, nil)
	}
	f, stop, err := follow(ctx, env, nil, pos[0])
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
	f, stop, err := follow(ctx, env, nil)
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
