package groupmember

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/seed-a550a1ef/kafka-qdrant/config"
)

// Config configures a Member.
type Config struct {
	// Group is the consumer group.
	Group string
	// Kafka gives kafka.session_timeout and kafka.rebalance_timeout (zero:
	// kgo's defaults, 45s and 60s).
	Kafka config.Kafka
	// CommitInterval spaces periodic commits (default 1s); Kick commits
	// sooner.
	CommitInterval time.Duration
	// CommitTimeout bounds one periodic commit (default 30s).
	CommitTimeout time.Duration
	// Role names the group in logs and in the metric's help ("data",
	// "control").
	Role string
	// CommitsMetric is the name of the counter of offset commits by result
	// ("ok", "error"), registered with Registerer; empty: not counted.
	CommitsMetric string
	Registerer    prometheus.Registerer
	Logger        *slog.Logger
	// PreCommit, when set, may edit every commit request before it is
	// sent (kgo.PreCommitFnContext): the data path sets the commit
	// metadata of the partitions a data pause holds.
	PreCommit func(*kmsg.OffsetCommitRequest) error
}

// Handler is what a member does on its partitions. Every function is
// required; they are called from kgo's group callbacks (never
// concurrently), or from Revoke and Lose.
type Handler struct {
	// Assigned starts the work on newly assigned partitions, which the
	// tracker owns from now on. It is called after every join, even with
	// nothing assigned.
	Assigned func(parts map[string][]int32)
	// Revoke ends the work on revoked partitions: the work in flight may
	// finish, within a bound the handler chooses. Once nothing more will
	// be marked for them it calls commit, which commits their commit
	// points (bounded by by and Abort) and disowns them; then it releases
	// what is left and returns. If it returns without calling commit, the
	// member commits then (bounded by 10 s).
	Revoke func(parts map[string][]int32, commit func(by time.Time) error)
	// Lost abandons the work on lost partitions. They were disowned before
	// the call: nothing is committed for them.
	Lost func(parts map[string][]int32)
}

// Member is one member of a consumer group that commits its own offsets:
// see the package documentation for the protocol and the invariants.
type Member struct {
	cfg     Config
	h       Handler
	log     *slog.Logger
	tracker *Tracker
	commits *prometheus.CounterVec

	// commitMu serialises commits with revokes and losses, so that a
	// periodic commit never straddles a revoke or a loss.
	commitMu sync.Mutex
	// protoMu serialises revokes and losses (kgo's callbacks and direct
	// Revoke and Lose calls).
	protoMu sync.Mutex
	kick    chan struct{}
	// preempt ends the periodic commit in flight (nil when none): a
	// revoke or a loss does not wait for a commit the broker is slow to
	// answer; what it did not commit is committed next time, if owned.
	preemptMu sync.Mutex
	preempt   context.CancelCauseFunc

	hard  context.Context
	abort context.CancelFunc

	mu     sync.Mutex
	cl     *kgo.Client // the client of the last assignment
	joined bool
	left   bool
}

// errAborted is a commit's error after Abort.
var errAborted = errors.New("member aborted; not committing")

// errPreempted ends a periodic commit in flight when a revoke or a loss
// needs the commit lock.
var errPreempted = errors.New("periodic commit preempted by a revoke or a loss")

// New checks cfg and h and registers the commits metric. The member
// joins nothing until a client built with its Options runs.
func New(cfg Config, h Handler) (*Member, error) {
	if cfg.Group == "" {
		return nil, errors.New("groupmember: Group is required")
	}
	if h.Assigned == nil || h.Revoke == nil || h.Lost == nil {
		return nil, errors.New("groupmember: every Handler function is required")
	}
	if cfg.CommitInterval <= 0 {
		cfg.CommitInterval = time.Second
	}
	if cfg.CommitTimeout <= 0 {
		cfg.CommitTimeout = 30 * time.Second
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	m := &Member{cfg: cfg, h: h, log: cfg.Logger, tracker: newTracker(), kick: make(chan struct{}, 1)}
	m.hard, m.abort = context.WithCancel(context.Background())
	if cfg.CommitsMetric != "" && cfg.Registerer != nil {
		m.commits = prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: cfg.CommitsMetric,
			Help: fmt.Sprintf("Offset commits of the %s consumer group, by result.", cfg.Role),
		}, []string{"result"})
		if err := cfg.Registerer.Register(m.commits); err != nil {
			return nil, fmt.Errorf("registering %s: %w", cfg.CommitsMetric, err)
		}
		m.commits.WithLabelValues("ok")
		m.commits.WithLabelValues("error")
	}
	return m, nil
}

// Options are the group options of a member: the group, the
// cooperative-sticky balancer, manual commits, rebalances blocked while
// polled records are being handed out (BlockRebalanceOnPoll: the poll loop
// calls AllowRebalance), new partitions read from the start, the session
// and rebalance timeouts, and the member's callbacks. Callers add the
// connection, the topics and their own consumer options.
func (m *Member) Options() []kgo.Opt {
	opts := []kgo.Opt{
		kgo.ConsumerGroup(m.cfg.Group),
		kgo.Balancers(kgo.CooperativeStickyBalancer()),
		kgo.DisableAutoCommit(),
		kgo.BlockRebalanceOnPoll(),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.OnPartitionsAssigned(m.onAssigned),
		kgo.OnPartitionsRevoked(m.onRevoked),
		kgo.OnPartitionsLost(m.onLost),
	}
	if t := m.cfg.Kafka.SessionTimeout; t > 0 {
		opts = append(opts, kgo.SessionTimeout(t))
	}
	if t := m.cfg.Kafka.RebalanceTimeout; t > 0 {
		opts = append(opts, kgo.RebalanceTimeout(t))
	}
	return opts
}

// Take records that the offsets [from, end) of a partition are being
// processed (Tracker.Take): mark them with the returned Work.
func (m *Member) Take(topic string, partition int32, from, end kgo.EpochOffset) *Work {
	return m.tracker.Take(topic, partition, from, end)
}

// Pending returns the commit points not yet committed.
func (m *Member) Pending() map[string]map[int32]kgo.EpochOffset { return m.tracker.Pending() }

// Owned returns the partitions the member owns.
func (m *Member) Owned() map[string][]int32 { return m.tracker.owned(nil) }

func (m *Member) onAssigned(_ context.Context, cl *kgo.Client, assigned map[string][]int32) {
	m.mu.Lock()
	m.cl, m.joined, m.left = cl, true, false
	m.mu.Unlock()
	m.tracker.assign(assigned)
	m.h.Assigned(assigned)
}

func (m *Member) onRevoked(_ context.Context, _ *kgo.Client, revoked map[string][]int32) {
	m.Revoke(revoked)
}

func (m *Member) onLost(_ context.Context, _ *kgo.Client, lost map[string][]int32) {
	m.Lose(lost)
}

// Revoke runs the revoke protocol for the partitions of parts the member
// owns, as the group's revoke callback does: Handler.Revoke stops their
// work and calls commit, which commits what is pending for them and
// disowns them, atomically with respect to periodic commits. When it
// returns nothing more is committed for them. A member leaving on its own
// (a session ending) calls it before leaving; the group's revoke then
// finds nothing left to do.
func (m *Member) Revoke(parts map[string][]int32) {
	m.protoMu.Lock()
	defer m.protoMu.Unlock()
	parts = m.tracker.owned(parts)
	if len(parts) == 0 {
		return
	}
	committed := false
	commit := func(by time.Time) error {
		if committed {
			return nil
		}
		committed = true
		ctx, cancel := context.WithDeadline(m.hard, by)
		defer cancel()
		err := m.commitRevoked(ctx, parts)
		if err != nil {
			m.log.Error("revoke: committing offsets", "group", m.cfg.Group, "err", err)
		}
		return err
	}
	m.h.Revoke(parts, commit)
	_ = commit(time.Now().Add(10 * time.Second))
}

// Lose runs the loss protocol for the partitions of parts the member owns,
// as the group's loss callback does: they are disowned first (nothing is
// committed for them from then on: another member may own them already),
// then Handler.Lost abandons their work.
func (m *Member) Lose(parts map[string][]int32) {
	m.protoMu.Lock()
	defer m.protoMu.Unlock()
	parts = m.tracker.owned(parts)
	if len(parts) == 0 {
		return
	}
	m.preemptCommit()
	m.commitMu.Lock()
	m.tracker.drop(parts)
	m.commitMu.Unlock()
	m.h.Lost(parts)
}

// RunCommits commits the pending commit points every CommitInterval, and
// when kicked, until ctx ends. Each commit is bounded by CommitTimeout and
// ended by Abort; a failed one is logged and retried at the next round.
func (m *Member) RunCommits(ctx context.Context) {
	t := time.NewTicker(m.cfg.CommitInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-m.kick:
		}
		pctx, preempt := context.WithCancelCause(ctx)
		cctx, cancel := context.WithTimeout(pctx, m.cfg.CommitTimeout)
		stop := context.AfterFunc(m.hard, cancel) // Abort ends a commit in flight
		m.preemptMu.Lock()
		m.preempt = preempt
		m.preemptMu.Unlock()
		err := m.commitPending(cctx)
		m.preemptMu.Lock()
		m.preempt = nil
		m.preemptMu.Unlock()
		if err != nil && ctx.Err() == nil && !errors.Is(err, errAborted) && !errors.Is(context.Cause(cctx), errPreempted) {
			m.log.Warn("committing offsets; retrying at the next interval", "group", m.cfg.Group, "err", err)
		}
		stop()
		cancel()
		preempt(nil)
	}
}

// preemptCommit ends the periodic commit in flight, if any, so that the
// caller gets the commit lock at once.
func (m *Member) preemptCommit() {
	m.preemptMu.Lock()
	defer m.preemptMu.Unlock()
	if m.preempt != nil {
		m.preempt(errPreempted)
	}
}

// Kick makes RunCommits commit now (work was just done that should not
// wait for the interval).
func (m *Member) Kick() {
	select {
	case m.kick <- struct{}{}:
	default:
	}
}

func (m *Member) commitPending(ctx context.Context) error {
	m.commitMu.Lock()
	defer m.commitMu.Unlock()
	offs := m.tracker.Pending()
	if len(offs) == 0 {
		return nil
	}
	if err := m.commit(ctx, offs); err != nil {
		return err
	}
	m.tracker.committed(offs)
	return nil
}

// CommitPartition commits one partition now, serialised with the other
// commits, if the member owns it: at its commit point, also when that was
// committed already (a commit that must carry new metadata, PreCommit),
// or, when no work was taken from it yet, at the offset fallback returns
// (what the group has). It returns the offset committed; owned is false
// (and nothing committed) when the member does not own the partition.
func (m *Member) CommitPartition(ctx context.Context, topic string, partition int32,
	fallback func(context.Context) (int64, error)) (at kgo.EpochOffset, owned bool, err error) {
	m.commitMu.Lock()
	defer m.commitMu.Unlock()
	at, owned = m.tracker.point(topic, partition)
	if !owned {
		return at, false, nil
	}
	if at.Offset < 0 {
		o, err := fallback(ctx)
		if err != nil {
			return at, true, err
		}
		at = kgo.EpochOffset{Epoch: -1, Offset: o}
	}
	offs := map[string]map[int32]kgo.EpochOffset{topic: {partition: at}}
	if err := m.commit(ctx, offs); err != nil {
		return at, true, err
	}
	m.tracker.committed(offs)
	return at, true, nil
}

// commitRevoked commits the pending points of parts and disowns them,
// atomically with respect to periodic commits.
func (m *Member) commitRevoked(ctx context.Context, parts map[string][]int32) error {
	m.preemptCommit()
	m.commitMu.Lock()
	defer m.commitMu.Unlock()
	offs := m.tracker.disown(parts)
	if len(offs) == 0 {
		return nil
	}
	return m.commit(ctx, offs)
}

// commit commits offs with the client of the last assignment and checks
// every partition's answer. The group coordinator refuses the commit of a
// member whose generation is stale. Called with commitMu held.
func (m *Member) commit(ctx context.Context, offs map[string]map[int32]kgo.EpochOffset) error {
	if m.hard.Err() != nil {
		return errAborted
	}
	m.mu.Lock()
	cl := m.cl
	m.mu.Unlock()
	if cl == nil {
		return errors.New("committing offsets: no group client")
	}
	m.log.Debug("committing offsets", "group", m.cfg.Group, "offsets", offs)
	if m.cfg.PreCommit != nil {
		ctx = kgo.PreCommitFnContext(ctx, m.cfg.PreCommit)
	}
	var rerr error
	cl.CommitOffsetsSync(ctx, offs, func(_ *kgo.Client, _ *kmsg.OffsetCommitRequest, resp *kmsg.OffsetCommitResponse, err error) {
		if err != nil {
			rerr = err
			return
		}
		for _, t := range resp.Topics {
			for _, p := range t.Partitions {
				if err := kerr.ErrorForCode(p.ErrorCode); err != nil && rerr == nil {
					rerr = fmt.Errorf("%s/%d: %w", t.Topic, p.Partition, err)
				}
			}
		}
	})
	if rerr != nil {
		if !errors.Is(context.Cause(ctx), errPreempted) {
			m.count("error")
		}
		return fmt.Errorf("committing offsets: %w", rerr)
	}
	m.count("ok")
	return nil
}

func (m *Member) count(result string) {
	if m.commits != nil {
		m.commits.WithLabelValues(result).Inc()
	}
}

// Leave leaves the group with cl (a client built with Options), bounded by
// ctx: rebalances are allowed again, so the group's revoke runs for what
// the member still owns. Afterwards the member owns nothing and Ready
// reports it is not in the group.
func (m *Member) Leave(ctx context.Context, cl *kgo.Client) error {
	cl.AllowRebalance()
	err := cl.LeaveGroupContext(ctx)
	// Not under commitMu: a periodic commit in flight may hold it until
	// its own timeout, and what it commits was done before.
	m.tracker.drop(nil)
	m.mu.Lock()
	if m.cl == cl {
		m.joined, m.left = false, true
	}
	m.mu.Unlock()
	return err
}

// Abort makes the member commit nothing more and cancels Context: work
// derived from it stops at once and is never marked.
func (m *Member) Abort() { m.abort() }

// Context is cancelled by Abort.
func (m *Member) Context() context.Context { return m.hard }

// Ready reports whether the member is in the group: assigned (even
// nothing) since its client joined, and not left.
func (m *Member) Ready() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	switch {
	case m.left:
		return fmt.Errorf("left the consumer group %s", m.cfg.Group)
	case !m.joined:
		return fmt.Errorf("not yet assigned by the consumer group %s", m.cfg.Group)
	}
	return nil
}
