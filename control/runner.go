package control

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/seed-a550a1ef/kafka-qdrant/control/index"
	"github.com/seed-a550a1ef/kafka-qdrant/control/job"
	"github.com/seed-a550a1ef/kafka-qdrant/control/statusview"
	"github.com/seed-a550a1ef/kafka-qdrant/internal/groupmember"
	"github.com/seed-a550a1ef/kafka-qdrant/schemas"
)

// Runner consumes the control topic and executes commands. Create it with
// NewRunner and call Run once.
type Runner struct {
	cfg      RunnerConfig
	log      *slog.Logger
	m        *metrics
	handlers map[schemas.CommandType]job.Handler
	follower *statusview.Follower
	// probe sends the ownership checks' heartbeats, on connections of its
	// own so they never queue behind the group client's requests.
	probe *kgo.Client
	// callTimeout bounds every Kafka call of the dispatcher loop, the
	// heartbeat's retries and each transaction: a quarter of the session
	// timeout, between 1s and 10s.
	callTimeout    time.Duration
	sessionTimeout time.Duration // the group session timeout
	txnID          string
	// gm is the control group's member: group options, the offsets of the
	// control records (each record is a piece of work, done when its
	// command is final), commits, the revoke and loss protocol.
	gm      *groupmember.Member
	started atomic.Bool
	wg      sync.WaitGroup // execution goroutines

	mu       sync.Mutex
	stopping bool                    // the session is ending: its handover is a stop, not a revoke
	cl       *kgo.Client             // the group client of the current session
	restart  context.CancelCauseFunc // ends the current session
	wake     context.CancelFunc      // ends the dispatcher's poll in progress
	ep       *epoch                  // the current ownership epoch
	active   map[string]*execution   // commands in flight by id (queued or running)
	queues   map[string][]*execution // per collection; the head is running
	finals   finalCache
}

// NewRunner checks cfg, registers the metrics and builds the handlers:
// index_defer, index_build and cancel, then cfg.Handlers. It does not
// connect to anything; Run does.
func NewRunner(cfg RunnerConfig) (*Runner, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	m, err := newMetrics(cfg.Registerer)
	if err != nil {
		return nil, err
	}
	log := cfg.Logger.With("component", "control", "replica", cfg.Replica)
	f, err := statusview.NewFollower(cfg.KafkaOpts, cfg.Config.Control.StatusTopic, statusview.NewView(), log)
	if err != nil {
		return nil, err
	}
	probe, err := kgo.NewClient(slices.Clone(cfg.KafkaOpts)...)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("creating the ownership probe client: %w", err)
	}
	session := cfg.Config.Kafka.SessionTimeout
	if session <= 0 {
		session = 45 * time.Second // kgo's default
	}
	r := &Runner{
		cfg: cfg, log: log, m: m, follower: f, probe: probe,
		callTimeout:    min(max(session/4, time.Second), 10*time.Second),
		sessionTimeout: session,
		txnID:          Group(cfg.Config.Kafka.Group),
		active:         map[string]*execution{},
		queues:         map[string][]*execution{},
		ep:             newEpoch(0, false),
	}
	// Final offsets are committed as soon as commands complete (Kick),
	// and failed commits retried every 5 s.
	r.gm, err = groupmember.New(groupmember.Config{
		Group: Group(cfg.Config.Kafka.Group), Kafka: cfg.Config.Kafka,
		CommitInterval: 5 * time.Second, CommitTimeout: r.callTimeout,
		Role: "control", CommitsMetric: "kafka_qdrant_control_offset_commits_total", Registerer: cfg.Registerer,
		Logger: log,
	}, groupmember.Handler{Assigned: r.onAssigned, Revoke: r.onRevoked, Lost: r.onLost})
	if err != nil {
		f.Close()
		probe.Close()
		return nil, err
	}
	q := cfg.Config.Qdrant
	io := index.Options{
		Collections: cfg.Qdrant, Optimizations: cfg.Optimizations, Records: viewRecords{f},
		Clock: cfg.Clock, PollInterval: cfg.PollInterval, MaxPollInterval: cfg.MaxPollInterval,
		RetryInitial: q.Retry.InitialBackoff, RetryMax: q.Retry.MaxBackoff, CallTimeout: q.Timeout, Log: log,
	}
	r.handlers = map[schemas.CommandType]job.Handler{
		schemas.CommandIndexDefer: index.NewDefer(io),
		schemas.CommandIndexBuild: index.NewBuild(io),
		schemas.CommandCancel:     &cancelHandler{r: r},
	}
	for t, h := range cfg.Handlers {
		r.handlers[t] = h
	}
	return r, nil
}

// View is the runner's view of the status topic (filled while Run runs).
func (r *Runner) View() *statusview.View { return r.follower.View() }

// Run creates the topics when missing, loads the status view, joins the
// control group and executes commands until ctx ends. Then it hands its
// running commands over (they stop without a final state and the next
// owner resumes them), commits what is final and leaves the group, all
// within HandoverTimeout. A session whose status producer was fenced or
// left in an unknown state is ended the same way and a new one joins. It
// returns nil after a clean stop, or the error that stopped it.
func (r *Runner) Run(ctx context.Context) error {
	if !r.started.CompareAndSwap(false, true) {
		return errors.New("control runner: Run called twice")
	}
	ctl := r.cfg.Config.Control
	if err := r.ensureTopics(ctx); err != nil {
		return nil // ctx ended
	}
	bgCtx, bgCancel := context.WithCancel(context.WithoutCancel(ctx))
	var bg sync.WaitGroup
	defer func() {
		bgCancel()
		r.follower.Close()
		r.probe.Close()
		bg.Wait()
	}()
	bg.Go(func() { _ = r.follower.Run(bgCtx) })
	loadStart := time.Now()
	if err := r.syncView(ctx, 30*time.Second); err != nil {
		return nil // ctx ended while loading
	}
	r.log.Info("status view loaded", "commands", r.follower.View().Len(), "took", time.Since(loadStart).Round(time.Millisecond), "topic", ctl.StatusTopic)
	bg.Go(func() { r.gm.RunCommits(bgCtx) })

	b := job.Backoff{Initial: 200 * time.Millisecond, Max: 5 * time.Second}
	for {
		err := r.session(ctx)
		if ctx.Err() != nil {
			return nil
		}
		var fatal *fatalConfigError
		if errors.As(err, &fatal) {
			return fatal.err
		}
		r.log.Warn("control group session ended; joining again", "err", err)
		if err := job.Sleep(ctx, job.RealClock, b.Next()); err != nil {
			return nil
		}
	}
}

// fatalConfigError stops Run: retrying cannot help.
type fatalConfigError struct{ err error }

func (e *fatalConfigError) Error() string { return e.err.Error() }

// session is one membership of the control group, with its own client:
// join, dispatch, then hand over, commit and leave. It ends when ctx ends
// or the session is restarted (restartSession).
func (r *Runner) session(ctx context.Context) error {
	sctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	opts := append(slices.Clone(r.cfg.KafkaOpts), r.gm.Options()...)
	opts = append(opts,
		kgo.ConsumeTopics(r.cfg.Config.Control.Topic),
		// A heartbeat that cannot reach the coordinator for callTimeout
		// ends the ownership (onLost) well before the session expires
		// and the coordinator can give the partition to another replica:
		// a request that gets no answer fails after callTimeout (on top
		// of its own timeout), and heartbeats are not retried past it.
		kgo.RequestTimeoutOverhead(r.callTimeout),
		kgo.RetryTimeoutFn(func(key int16) time.Duration {
			switch key {
			case int16(kmsg.Heartbeat):
				return r.callTimeout
			case int16(kmsg.JoinGroup), int16(kmsg.SyncGroup):
				return r.sessionTimeout // kgo's default
			}
			return 30 * time.Second
		}),
	)
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		return &fatalConfigError{fmt.Errorf("creating control consumer: %w", err)}
	}
	r.mu.Lock()
	r.cl, r.restart = cl, cancel
	r.mu.Unlock()
	err = r.poll(sctx, cl)
	r.shutdown(cl)
	r.mu.Lock()
	r.cl, r.restart = nil, nil
	r.mu.Unlock()
	if err == nil {
		err = context.Cause(sctx)
	}
	return err
}

// restartSession ends the current group session (its client leaves the
// group and a new one joins): the way out of an epoch whose producer
// cannot be used any more while the group still assigns us the partition.
func (r *Runner) restartSession(cause error) {
	r.mu.Lock()
	restart := r.restart
	r.mu.Unlock()
	if restart != nil {
		restart(cause)
	}
}

// client returns the current session's group client (nil between
// sessions).
func (r *Runner) client() *kgo.Client {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.cl
}

// poll is the dispatcher loop. Records are handled in order, each at most
// once; a record whose status could not be published stays pending (with
// those after it) and is handled again on a later round. Between rounds
// rebalances are allowed, and every Kafka call of a round is bounded by
// callTimeout, so a replica cut off from Kafka runs its revoke or lost
// callback in time.
func (r *Runner) poll(ctx context.Context, cl *kgo.Client) error {
	var (
		pending []*kgo.Record
		pendEp  *epoch
		synced  bool
		b       = job.Backoff{Initial: 100 * time.Millisecond, Max: 5 * time.Second}
		wait    time.Duration
	)
	for {
		ep := r.current()
		unprepared := r.unprepared(ep)
		if unprepared {
			if err := r.prepare(ctx, ep); err != nil {
				if ctx.Err() != nil {
					return nil
				}
				r.mu.Lock()
				ep.prepareErr = err
				r.mu.Unlock()
				r.log.Warn("taking over the control partition", "attempt", b.Attempts()+1, "err", err)
				wait = b.Next()
			} else {
				b.Reset()
				unprepared, synced, wait = false, true, 0
			}
		}

		// The poll is bounded while work waits; an assignment wakes it
		// (onAssigned), so a new owner takes over and fences at once,
		// not with the next command.
		pctx, cancel := context.WithCancel(ctx)
		if len(pending) > 0 || unprepared {
			cancel()
			pctx, cancel = context.WithTimeout(ctx, max(wait, 50*time.Millisecond))
		}
		r.mu.Lock()
		r.wake = cancel
		r.mu.Unlock()
		var fs kgo.Fetches
		if !r.unprepared(r.current()) || unprepared {
			fs = cl.PollFetches(pctx)
		}
		r.mu.Lock()
		r.wake = nil
		r.mu.Unlock()
		cancel()
		if fs.IsClientClosed() {
			return errors.New("control consumer closed")
		}
		if ctx.Err() != nil {
			return nil
		}
		fs.EachError(func(t string, p int32, err error) {
			if !errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded) {
				r.log.Warn("fetching control topic", "topic", t, "partition", p, "err", err)
			}
		})
		// Rebalances are blocked from here to AllowRebalance: the epoch
		// is stable.
		ep = r.current()
		if ep != pendEp {
			pending, pendEp, synced = nil, ep, false
		}
		if fs.NumRecords() > 0 {
			r.mu.Lock()
			fs.EachRecord(func(rec *kgo.Record) {
				ep.offsets.take(r.gm, rec)
				pending = append(pending, rec)
			})
			r.mu.Unlock()
			// Commands published before these must be decided on what the
			// status topic says now (another replica may have finished or
			// started them).
			synced = false
		}
		if len(pending) > 0 && r.epochErr(ep) == nil {
			if !synced {
				if err := r.syncView(ctx, r.callTimeout); err == nil {
					synced = true
				} else if ctx.Err() == nil {
					r.log.Warn("catching up with the status topic", "err", err)
					wait = b.Next()
				}
			}
			for synced && len(pending) > 0 {
				if !r.handle(ep, pending[0]) {
					wait = b.Next()
					break
				}
				pending = pending[1:]
				b.Reset()
				wait = 0
			}
		}
		cl.AllowRebalance()
	}
}

// unprepared reports whether ep is the current, assigned epoch and has not
// taken over yet.
func (r *Runner) unprepared(ep *epoch) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return ep == r.ep && ep.assigned && ep.pub == nil && ep.endCause == nil
}

// prepare makes the assigned epoch ep ready: it initializes the epoch's
// transactional producer (fencing every former owner: from now on none of
// their writes can become visible) and then catches up with the status
// topic, so everything a former owner made visible is in the view.
func (r *Runner) prepare(ctx context.Context, ep *epoch) error {
	pctx, cancel := context.WithTimeout(ctx, 2*r.callTimeout)
	defer cancel()
	pub, err := newPublisher(pctx, r.cfg.KafkaOpts, r.txnID, r.cfg.Config.Control.StatusTopic, r.callTimeout, r.log,
		func(err error) { r.fenced(ep, err) })
	if err != nil {
		return err
	}
	if err := r.syncView(ctx, r.callTimeout); err != nil {
		pub.close()
		return err
	}
	r.mu.Lock()
	if ep != r.ep || ep.endCause != nil {
		r.mu.Unlock()
		pub.close()
		return ownerError("the epoch ended while taking over")
	}
	ep.pub = pub
	r.mu.Unlock()
	r.m.owner.Set(1)
	r.log.Info("owning the control partition: former owners fenced, status view caught up", "epoch", ep.n, "commands", r.follower.View().Len())
	go r.sweepLoop(ep)
	r.startOwnerTasks(ep)
	return nil
}

// fenced ends ep's session: its producer was fenced (another replica took
// the partition over) or left in an unknown transaction state.
func (r *Runner) fenced(ep *epoch, err error) {
	r.mu.Lock()
	current := ep == r.ep && ep.endCause == nil
	r.mu.Unlock()
	if current {
		r.log.Warn("status producer unusable; ending this control group session", "epoch", ep.n, "err", err)
		r.restartSession(err)
	}
}

// ensureTopics runs EnsureTopics until it succeeds or ctx ends: Kafka
// being unreachable at start delays the control plane, it does not stop
// the replica. Without the right to create topics the runner goes on (an
// operator may have created them) and says so.
func (r *Runner) ensureTopics(ctx context.Context) error {
	ctl := r.cfg.Config.Control
	b := job.Backoff{Initial: 200 * time.Millisecond, Max: 10 * time.Second}
	for {
		err := EnsureTopics(ctx, r.cfg.KafkaOpts, ctl.Topic, ctl.StatusTopic, r.log)
		switch {
		case err == nil:
			return nil
		case ctx.Err() != nil:
			return ctx.Err()
		case errors.Is(err, kerr.TopicAuthorizationFailed), errors.Is(err, kerr.ClusterAuthorizationFailed):
			r.log.Warn("not allowed to create the control topics; assuming they exist", "err", err)
			return nil
		}
		r.log.Warn("creating the control topics", "attempt", b.Attempts()+1, "err", err)
		if err := job.Sleep(ctx, job.RealClock, b.Next()); err != nil {
			return err
		}
	}
}

// syncView catches the status view up with the topic, each attempt
// bounded by per; it retries until it succeeds, ctx ends, or (when per is
// the call timeout, inside the dispatcher loop) after one attempt.
func (r *Runner) syncView(ctx context.Context, per time.Duration) error {
	b := job.Backoff{Initial: 100 * time.Millisecond, Max: 5 * time.Second}
	for {
		sctx, cancel := context.WithTimeout(ctx, per)
		err := r.follower.Sync(sctx)
		cancel()
		if err == nil {
			return nil
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if per <= r.callTimeout {
			return err
		}
		r.log.Warn("catching up with the status topic", "attempt", b.Attempts()+1, "err", err)
		if err := job.Sleep(ctx, job.RealClock, b.Next()); err != nil {
			return err
		}
	}
}

func (r *Runner) onAssigned(assigned map[string][]int32) {
	parts := assigned[r.cfg.Config.Control.Topic]
	if len(parts) == 0 {
		return
	}
	r.mu.Lock()
	if !r.ep.assigned {
		r.ep = newEpoch(r.ep.n+1, true)
	}
	n := r.ep.n
	if r.wake != nil {
		r.wake()
	}
	r.mu.Unlock()
	r.log.Info("control partitions assigned", "partitions", parts, "epoch", n)
}

// onRevoked hands the commands over and commits what is final (the
// member's revoke protocol); shutdown runs it too, before leaving.
func (r *Runner) onRevoked(revoked map[string][]int32, commit func(by time.Time) error) {
	if len(revoked[r.cfg.Config.Control.Topic]) == 0 {
		return
	}
	r.mu.Lock()
	reason := "control partition revoked"
	if r.stopping {
		reason = "replica stopping"
	}
	r.mu.Unlock()
	r.log.Info("handing commands over", "reason", reason, "partitions", revoked[r.cfg.Config.Control.Topic])
	r.handover(reason, commit, time.Now().Add(r.cfg.HandoverTimeout))
}

// onLost hands the commands over without committing: the member disowned
// the partitions before.
func (r *Runner) onLost(lost map[string][]int32) {
	if len(lost[r.cfg.Config.Control.Topic]) == 0 {
		return
	}
	r.log.Warn("control partitions lost; stopping commands without committing", "partitions", lost[r.cfg.Config.Control.Topic])
	r.handover("control partition lost", nil, time.Now().Add(r.cfg.HandoverTimeout))
}

// handover ends the current epoch: queued commands are dropped, running
// ones cancelled with job.ErrHandover and awaited until deadline (or
// Abort); then what is final is committed (commit; nil when the
// partitions were lost) and the epoch's producer is closed.
func (r *Runner) handover(reason string, commit func(by time.Time) error, deadline time.Time) {
	r.mu.Lock()
	old := r.ep
	if old.endCause != nil || !old.assigned {
		r.mu.Unlock()
		return
	}
	old.endCause = ownerError(reason)
	old.deadline = deadline
	r.ep = newEpoch(old.n+1, false)
	var running []*execution
	for id, e := range r.active {
		if e.ep != old {
			continue
		}
		delete(r.active, id)
		if !e.started {
			e.abandoned = true
			close(e.done)
			continue
		}
		running = append(running, e)
	}
	r.queues = map[string][]*execution{}
	pub := old.pub
	r.mu.Unlock()
	close(old.ended)
	r.m.owner.Set(0)

	old.runCancel(job.ErrHandover)
	timer := time.NewTimer(time.Until(deadline))
	defer timer.Stop()
	aborted := r.gm.Context().Done()
	var stuck []string
	for _, e := range running {
		select {
		case <-e.done:
		case <-timer.C:
			stuck = append(stuck, e.cmd.ID)
			timer.Reset(0)
		case <-aborted:
			stuck = append(stuck, e.cmd.ID)
		}
	}
	if len(stuck) > 0 {
		r.log.Error("commands did not stop within the handover timeout (or before Abort); they can publish nothing more", "ids", stuck, "reason", reason)
	}
	r.awaitOwnerTasks(old, deadline)
	if commit != nil {
		_ = commit(atLeastASecond(deadline)) // errors are logged by the member
	}
	if pub != nil {
		pub.close()
	}
	if len(running) > 0 {
		r.log.Info("commands handed over", "count", len(running), "reason", reason)
	}
}

// shutdown runs after the dispatcher of a session stopped: hand over and
// commit (the member's revoke protocol, so the group's own revoke while
// leaving finds nothing to do), then leave.
func (r *Runner) shutdown(cl *kgo.Client) {
	deadline := time.Now().Add(r.cfg.HandoverTimeout)
	r.mu.Lock()
	r.stopping = true
	r.mu.Unlock()
	r.gm.Revoke(r.gm.Owned())
	waited := make(chan struct{})
	go func() { r.wg.Wait(); close(waited) }()
	select {
	case <-waited:
	case <-time.After(time.Until(deadline)):
		r.log.Error("command goroutines still running at shutdown")
	case <-r.gm.Context().Done():
	}
	lctx, cancel := context.WithDeadline(r.gm.Context(), atLeastASecond(deadline))
	if err := r.gm.Leave(lctx, cl); err != nil {
		r.log.Warn("leaving the control group", "err", err)
	}
	cancel()
	cl.Close()
	// The group client is gone: a new session starts unassigned.
	r.mu.Lock()
	r.stopping = false
	if r.ep.assigned {
		r.ep = newEpoch(r.ep.n+1, false)
	}
	r.mu.Unlock()
}

// kickCommit commits final offsets now rather than at the next interval.
func (r *Runner) kickCommit() { r.gm.Kick() }

// Abort is the second signal: a stopping runner stops waiting for its
// commands (they were cancelled with job.ErrHandover; the next owner
// resumes them), commits nothing more and leaves at once. Call it after
// Run's context ended.
func (r *Runner) Abort() { r.gm.Abort() }

// Ready reports whether the runner is in the control group and, while it
// owns the control partition, has taken it over: an owner that could not
// fence the former owners and catch up with the status topic for longer
// than the session timeout (no WRITE on the transactional id, the
// transaction coordinator unavailable) runs no command.
func (r *Runner) Ready() error {
	if err := r.gm.Ready(); err != nil {
		return fmt.Errorf("control plane: %w", err)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	ep := r.ep
	if ep.assigned && ep.pub == nil && ep.endCause == nil && ep.prepareErr != nil {
		if d := time.Since(ep.assignedAt); d > r.sessionTimeout {
			return fmt.Errorf("control plane: owning the control partition for %s without taking it over: %w", d.Round(time.Second), ep.prepareErr)
		}
	}
	return nil
}

// atLeastASecond returns d, or a second from now when d is sooner, so a
// last commit or leave gets a chance even after a slow handover.
func atLeastASecond(d time.Time) time.Time {
	if soon := time.Now().Add(time.Second); d.Before(soon) {
		return soon
	}
	return d
}
