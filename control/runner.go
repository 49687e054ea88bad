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
	cl       *kgo.Client
	started  atomic.Bool
	commitCh chan struct{}
	wg       sync.WaitGroup // execution goroutines

	mu     sync.Mutex
	ep     *epoch                  // the current ownership epoch
	active map[string]*execution   // commands in flight by id (queued or running)
	queues map[string][]*execution // per collection; the head is running
	finals finalCache
}

// epoch is one period of ownership of the control partition(s): it ends
// on revoke, loss or shutdown. Executions and offsets belong to an epoch.
type epoch struct {
	n       uint64
	offsets *offsets
	// runCtx is the parent of the epoch's executions; it is cancelled
	// with job.ErrHandover when the epoch ends.
	runCtx    context.Context
	runCancel context.CancelCauseFunc
	// pubCtx bounds the epoch's status publishing; it ends after the
	// handover, so a command that outlives it publishes nothing final.
	pubCtx    context.Context
	pubCancel context.CancelFunc
	// deadline is when the handover of the epoch gives up waiting (zero
	// while the epoch is current); guarded by Runner.mu.
	deadline time.Time
}

func newEpoch(n uint64) *epoch {
	e := &epoch{n: n, offsets: newOffsets()}
	e.runCtx, e.runCancel = context.WithCancelCause(context.Background())
	e.pubCtx, e.pubCancel = context.WithCancel(context.Background())
	return e
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
	r := &Runner{
		cfg: cfg, log: log, m: m, follower: f,
		commitCh: make(chan struct{}, 1),
		active:   map[string]*execution{},
		queues:   map[string][]*execution{},
		ep:       newEpoch(0),
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
// within HandoverTimeout. It returns nil after a clean stop, or the error
// that stopped it.
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
		bg.Wait()
	}()
	bg.Go(func() { _ = r.follower.Run(bgCtx) })
	if err := r.syncView(ctx); err != nil {
		return nil // ctx ended while loading
	}
	r.log.Info("status view loaded", "commands", r.follower.View().Len())

	k := r.cfg.Config.Kafka
	opts := append(slices.Clone(r.cfg.KafkaOpts),
		kgo.ConsumerGroup(Group(k.Group)),
		kgo.ConsumeTopics(ctl.Topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.DisableAutoCommit(),
		kgo.BlockRebalanceOnPoll(),
		kgo.OnPartitionsAssigned(r.onAssigned),
		kgo.OnPartitionsRevoked(r.onRevoked),
		kgo.OnPartitionsLost(r.onLost),
	)
	if k.SessionTimeout > 0 {
		opts = append(opts, kgo.SessionTimeout(k.SessionTimeout))
	}
	if k.RebalanceTimeout > 0 {
		opts = append(opts, kgo.RebalanceTimeout(k.RebalanceTimeout))
	}
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		return fmt.Errorf("creating control consumer: %w", err)
	}
	r.cl = cl
	bg.Go(func() { r.commitLoop(bgCtx) })

	err = r.poll(ctx)
	r.shutdown()
	return err
}

// poll is the dispatcher loop: records are handled in order, between
// polls rebalances are allowed.
func (r *Runner) poll(ctx context.Context) error {
	for {
		fs := r.cl.PollFetches(ctx)
		if fs.IsClientClosed() {
			return errors.New("control consumer closed")
		}
		if ctx.Err() != nil {
			return nil
		}
		fs.EachError(func(t string, p int32, err error) {
			if !errors.Is(err, context.Canceled) {
				r.log.Warn("fetching control topic", "topic", t, "partition", p, "err", err)
			}
		})
		if fs.NumRecords() > 0 {
			// Commands published before this batch must be decided on
			// what the status topic says now (another replica may have
			// finished or started them).
			if err := r.syncView(ctx); err != nil {
				return nil
			}
			fs.EachRecord(func(rec *kgo.Record) { r.handle(ctx, rec) })
		}
		r.cl.AllowRebalance()
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

// syncView catches the status view up with the topic, retrying until it
// succeeds or ctx ends.
func (r *Runner) syncView(ctx context.Context) error {
	b := job.Backoff{Initial: 100 * time.Millisecond, Max: 5 * time.Second}
	for {
		sctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		err := r.follower.Sync(sctx)
		cancel()
		if err == nil {
			return nil
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		r.log.Warn("catching up with the status topic", "attempt", b.Attempts()+1, "err", err)
		if err := job.Sleep(ctx, job.RealClock, b.Next()); err != nil {
			return err
		}
	}
}

func (r *Runner) onAssigned(_ context.Context, _ *kgo.Client, assigned map[string][]int32) {
	r.log.Info("control partitions assigned", "partitions", assigned[r.cfg.Config.Control.Topic])
}

func (r *Runner) onRevoked(_ context.Context, _ *kgo.Client, revoked map[string][]int32) {
	if len(revoked[r.cfg.Config.Control.Topic]) == 0 {
		return
	}
	r.log.Info("control partitions revoked; handing commands over", "partitions", revoked[r.cfg.Config.Control.Topic])
	r.handover("control partition revoked", true, time.Now().Add(r.cfg.HandoverTimeout))
}

func (r *Runner) onLost(_ context.Context, _ *kgo.Client, lost map[string][]int32) {
	r.log.Warn("control partitions lost; stopping commands without committing", "partitions", lost[r.cfg.Config.Control.Topic])
	r.handover("control partition lost", false, time.Now().Add(r.cfg.HandoverTimeout))
}

// handover ends the current epoch: queued commands are dropped, running
// ones cancelled with job.ErrHandover and awaited until deadline; then
// what is final is committed (unless the partitions were lost) and the
// epoch's publishing ends.
func (r *Runner) handover(reason string, commit bool, deadline time.Time) {
	r.mu.Lock()
	old := r.ep
	old.deadline = deadline
	r.ep = newEpoch(old.n + 1)
	var running []*execution
	for id, e := range r.active {
		delete(r.active, id)
		if !e.started {
			e.abandoned = true
			close(e.done)
			continue
		}
		running = append(running, e)
	}
	r.queues = map[string][]*execution{}
	r.mu.Unlock()

	old.runCancel(job.ErrHandover)
	timer := time.NewTimer(time.Until(deadline))
	defer timer.Stop()
	var stuck []string
	for _, e := range running {
		select {
		case <-e.done:
		case <-timer.C:
			stuck = append(stuck, e.cmd.ID)
			timer.Reset(0)
		}
	}
	if len(stuck) > 0 {
		r.log.Error("commands did not stop within the handover timeout; their late results are discarded", "ids", stuck, "reason", reason)
	}
	if commit {
		cctx, cancel := context.WithDeadline(context.Background(), atLeastASecond(deadline))
		r.commit(cctx, old)
		cancel()
	}
	old.pubCancel()
	if len(running) > 0 {
		r.log.Info("commands handed over", "count", len(running), "reason", reason)
	}
}

// shutdown runs after the dispatcher stopped: hand over, commit, leave.
func (r *Runner) shutdown() {
	deadline := time.Now().Add(r.cfg.HandoverTimeout)
	r.handover("replica stopping", true, deadline)
	waited := make(chan struct{})
	go func() { r.wg.Wait(); close(waited) }()
	select {
	case <-waited:
	case <-time.After(time.Until(deadline)):
		r.log.Error("command goroutines still running at shutdown")
	}
	r.cl.AllowRebalance()
	lctx, cancel := context.WithDeadline(context.Background(), atLeastASecond(deadline))
	if err := r.cl.LeaveGroupContext(lctx); err != nil {
		r.log.Warn("leaving the control group", "err", err)
	}
	cancel()
	r.cl.Close()
}

// commitLoop commits final offsets when commands complete, and retries
// failed commits every few seconds.
func (r *Runner) commitLoop(ctx context.Context) {
	t := time.NewTicker(5 * time.Second)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-r.commitCh:
		case <-t.C:
		}
		r.mu.Lock()
		ep := r.ep
		r.mu.Unlock()
		cctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		r.commit(cctx, ep)
		cancel()
	}
}

func (r *Runner) kickCommit() {
	select {
	case r.commitCh <- struct{}{}:
	default:
	}
}

// commit commits the epoch's offsets up to the first command not final.
func (r *Runner) commit(ctx context.Context, ep *epoch) {
	r.mu.Lock()
	pts := ep.offsets.commitPoints()
	r.mu.Unlock()
	if len(pts) == 0 {
		return
	}
	topic := r.cfg.Config.Control.Topic
	req := map[string]map[int32]kgo.EpochOffset{topic: {}}
	for p, o := range pts {
		req[topic][p] = kgo.EpochOffset{Epoch: -1, Offset: o}
	}
	var cerr error
	r.cl.CommitOffsetsSync(ctx, req, func(_ *kgo.Client, _ *kmsg.OffsetCommitRequest, resp *kmsg.OffsetCommitResponse, err error) {
		if err != nil {
			cerr = err
			return
		}
		for _, t := range resp.Topics {
			for _, p := range t.Partitions {
				if e := kerr.ErrorForCode(p.ErrorCode); e != nil {
					cerr = e
				}
			}
		}
	})
	if cerr != nil {
		r.log.Warn("committing control offsets", "offsets", pts, "err", cerr)
		return
	}
	r.mu.Lock()
	for p, o := range pts {
		ep.offsets.committed(p, o)
	}
	r.mu.Unlock()
	r.log.Debug("control offsets committed", "offsets", pts)
}

// atLeastASecond returns d, or a second from now when d is sooner, so a
// last commit or leave gets a chance even after a slow handover.
func atLeastASecond(d time.Time) time.Time {
	if soon := time.Now().Add(time.Second); d.Before(soon) {
		return soon
	}
	return d
}
