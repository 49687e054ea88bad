package connector

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"regexp"
	"slices"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/seed-a550a1ef/kafka-qdrant/config"
	"github.com/seed-a550a1ef/kafka-qdrant/internal/groupmember"
	"github.com/seed-a550a1ef/kafka-qdrant/schemas"
	"github.com/seed-a550a1ef/kafka-qdrant/sink"
)

// Sink is what the connector needs from the Qdrant side. *sink.Writer
// implements it; both methods are called from many partition goroutines at
// once and block (retrying) until they succeed or ctx ends.
type Sink interface {
	// Check validates a decoded record against its target collection.
	// It returns nil, a *schemas.RecordError (bad input), or ctx's error.
	Check(ctx context.Context, collection string, r *schemas.Record) error
	// Write applies ops to one collection. It returns the ops Qdrant
	// rejected as invalid (everything else is applied), or ctx's error
	// (nothing known applied).
	Write(ctx context.Context, collection string, ops []sink.Op) ([]sink.Rejected, error)
}

// Config is everything a Connector needs. Kafka, Routing, Record and Batch
// are the validated configuration sections.
type Config struct {
	Kafka   config.Kafka
	Routing config.Routing
	Record  config.Record
	Batch   config.Batch

	// ClientOpts are the base franz-go options (brokers, TLS, SASL); the
	// connector adds its group and consumer options on top. Tests append
	// extras here (e.g. a lower kgo.MetadataMinAge).
	ClientOpts []kgo.Opt
	Sink       Sink
	// Schemas finds the schemas of topics in the registry format
	// (schemas/registry); needed when record.format or a
	// routing.topics entry is registry, nil otherwise.
	Schemas    schemas.SchemaSource
	Logger     *slog.Logger
	Registerer prometheus.Registerer

	// DrainTimeout bounds Run's whole drain once its context ends: the
	// flush of the batches in flight, the final commit and leaving the
	// group. Batches not applied by then are abandoned uncommitted.
	DrainTimeout time.Duration
	// StallTimeout: a partition with work that made no progress for this
	// long makes Ready report an error. Default 60s.
	StallTimeout time.Duration
	// Pauses, when set, are the data pauses to honour (datapause.go): a
	// restore's alias switch. Nil: none.
	Pauses PauseSource

	testHooks testHooks
}

// Connector runs one member of the data consumer group. See the package
// documentation for the lifecycle and the offset invariants.
type Connector struct {
	cfg Config
	log *slog.Logger
	m   *metrics
	// decoders make each partition's decoder and route its records.
	decoders *Decoders
	cl       *kgo.Client
	gm       *groupmember.Member
	pauser   *pauser
	pauses   *dataPauses // nil without Config.Pauses

	// inflight counts the bytes of records handed to partition workers and
	// not yet finished (applied, dead-lettered or dropped).
	inflight atomic.Int64
	// room is signalled when inflight drops below the bound.
	room chan struct{}
	// avgRecordSize is the moving average of what the records polled
	// count against batch.max_inflight_bytes (pollLimit); 0 before the
	// first poll.
	avgRecordSize atomic.Int64
	// dlqLimit is max.message.bytes of the DLQ topic (openDLQ).
	dlqLimit *dlqLimit
	// decoded counts Record.MemBytes of the records partitions hold
	// decoded; nparts is the number of partitions, which share
	// batch.max_decoded_bytes.
	decoded atomic.Int64
	nparts  atomic.Int32

	// rewinds are partitions whose fetching must be rewound to the end
	// of their last batch and resumed (applyRewinds, in the poll loop).
	rewindMu sync.Mutex
	rewinds  []*partition
	// pollCancel, while the poll loop waits in PollRecords, wakes it.
	pollCancel context.CancelFunc

	mu    sync.Mutex
	parts map[tp]*partition
	// drainDeadline, when non-zero, is when the shutdown must be over
	// (set when Run starts draining): flushes in revoke callbacks end
	// commitReserve before it, their commit by it.
	drainDeadline time.Time

	initDone  chan struct{}
	testHooks testHooks

	// hardCtx is the member's Context: Abort (second signal or drain
	// deadline) cancels it to abandon everything at once.
	hardCtx context.Context
}

type tp struct {
	topic     string
	partition int32
}

func (t tp) String() string { return fmt.Sprintf("%s/%d", t.topic, t.partition) }

// New validates cfg and builds the Kafka client. It does not contact Kafka
// until Run.
func New(cfg Config) (*Connector, error) {
	if cfg.Sink == nil {
		return nil, errors.New("connector: Sink is required")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Registerer == nil {
		cfg.Registerer = prometheus.NewRegistry()
	}
	if cfg.StallTimeout <= 0 {
		cfg.StallTimeout = 60 * time.Second
	}
	if cfg.DrainTimeout <= 0 {
		cfg.DrainTimeout = 30 * time.Second
	}
	if cfg.Batch.MaxRecords <= 0 || cfg.Batch.MaxBytes <= 0 {
		return nil, errors.New("connector: batch.max_records and batch.max_bytes must be > 0")
	}
	decs, err := NewDecoders(cfg.Record, cfg.Routing, cfg.Schemas)
	if err != nil {
		return nil, fmt.Errorf("connector: %w", err)
	}
	c := &Connector{
		cfg:       cfg,
		log:       cfg.Logger,
		decoders:  decs,
		parts:     make(map[tp]*partition),
		testHooks: cfg.testHooks,
		// kgo joins the group from NewClient on, so the group callbacks
		// can run before New has finished building c.
		initDone: make(chan struct{}),
		room:     make(chan struct{}, 1),
		dlqLimit: newDLQLimit(),
	}
	if c.m, err = newMetrics(cfg.Registerer, c.decoded.Load); err != nil {
		return nil, err
	}
	c.gm, err = groupmember.New(groupmember.Config{
		Group: cfg.Kafka.Group, Kafka: cfg.Kafka,
		CommitInterval: cfg.Kafka.CommitInterval, CommitTimeout: 30 * time.Second,
		Role: "data", CommitsMetric: "kafka_qdrant_offset_commits_total", Registerer: cfg.Registerer,
		Logger: c.log, PreCommit: func(req *kmsg.OffsetCommitRequest) error { return c.pauses.preCommit(req) },
	}, groupmember.Handler{Assigned: c.onAssigned, Revoke: c.onRevoked, Lost: c.onLost})
	if err != nil {
		return nil, err
	}
	c.hardCtx = c.gm.Context()

	opts := append([]kgo.Opt{}, cfg.ClientOpts...)
	opts = append(opts, c.gm.Options()...)
	opts = append(opts,
		kgo.FetchIsolationLevel(kgo.ReadCommitted()),
		// The DLQ producer: every replica acknowledges, batches sized
		// from the DLQ topic (openDLQ).
		kgo.RequiredAcks(kgo.AllISRAcks()),
		kgo.ProducerBatchMaxBytesFn(c.batchMaxBytes),
	)
	if cfg.Kafka.TopicRegex != "" {
		if _, err := regexp.Compile(cfg.Kafka.TopicRegex); err != nil {
			return nil, fmt.Errorf("kafka.topic_regex: %w", err)
		}
		opts = append(opts, kgo.ConsumeRegex(), kgo.ConsumeTopics(cfg.Kafka.TopicRegex))
	} else {
		opts = append(opts, kgo.ConsumeTopics(cfg.Kafka.Topics...))
	}
	if cfg.Kafka.FetchMaxWait > 0 {
		opts = append(opts, kgo.FetchMaxWait(cfg.Kafka.FetchMaxWait))
	}
	if cfg.Kafka.FetchMaxBytes > 0 {
		opts = append(opts, kgo.FetchMaxBytes(int32(cfg.Kafka.FetchMaxBytes)))
	}
	if c.cl, err = kgo.NewClient(opts...); err != nil {
		return nil, fmt.Errorf("creating kafka client: %w", err)
	}
	c.pauser = newPauser(c.cl, c.m)
	c.pauses = newDataPauses(c)
	close(c.initDone)
	return c, nil
}

// Run consumes until ctx ends, then drains: it stops fetching, lets every
// partition finish the batch it is writing (bounded by DrainTimeout),
// commits what was applied, leaves the group and closes the client. Abort
// ends everything at once. Run returns nil after a clean drain.
func (c *Connector) Run(ctx context.Context) error {
	commitDone := make(chan struct{})
	commitCtx, stopCommits := context.WithCancel(context.Background())
	go func() {
		defer close(commitDone)
		c.gm.RunCommits(commitCtx)
	}()

	// A DLQ topic that cannot hold dead letters ends the run before any
	// record is taken; the group is left as on a shutdown.
	dlqErr := c.openDLQ(ctx)
	stallCtx, stopStalls := context.WithCancel(context.Background())
	if dlqErr == nil {
		go c.watchStalls(stallCtx)
		go c.pauses.run(stallCtx)
		c.pollLoop(ctx)
	}
	stopStalls()
	return errors.Join(dlqErr, c.drain(stopCommits, commitDone))
}

// drain leaves the group, stops the commit loop and closes the client:
// the final revoke (triggered by leaving the group) flushes and commits
// every owned partition. The whole drain is bounded by DrainTimeout: the
// flush ends commitReserve before the deadline, the commit at the
// deadline, and at the deadline everything still running is abandoned
// (nothing unapplied is ever committed).
func (c *Connector) drain(stopCommits func(), commitDone <-chan struct{}) error {
	deadline := time.Now().Add(c.cfg.DrainTimeout)
	c.mu.Lock()
	c.drainDeadline = deadline
	c.mu.Unlock()
	hardStop := time.AfterFunc(c.cfg.DrainTimeout, c.gm.Abort)
	defer hardStop.Stop()
	drainCtx, cancel := context.WithDeadline(c.hardCtx, deadline)
	defer cancel()
	leaveErr := c.gm.Leave(drainCtx, c.cl)
	stopCommits()
	<-commitDone
	c.stopAllPartitions()
	c.closeClient(deadline)
	switch {
	case leaveErr == nil, errors.Is(leaveErr, context.Canceled) && !time.Now().After(deadline):
		return nil
	case time.Now().After(deadline):
		return fmt.Errorf("drain not finished within %s; what was not committed is read again: leaving the consumer group: %w", c.cfg.DrainTimeout, leaveErr)
	}
	return fmt.Errorf("leaving the consumer group: %w", leaveErr)
}

// closeClient closes the Kafka client, waiting for it no later than
// deadline: closing ends the fetch sessions with the brokers, which an
// unresponsive broker can hold for a second or more, and by then the group
// was left and everything committed that could be.
func (c *Connector) closeClient(deadline time.Time) {
	closed := make(chan struct{})
	go func() {
		defer close(closed)
		c.cl.Close()
	}()
	t := time.NewTimer(time.Until(deadline))
	defer t.Stop()
	select {
	case <-closed:
	case <-t.C:
		c.log.Warn("the Kafka client was still closing at the drain deadline; not waiting for it")
	}
}

// commitReserve is the part of a drain deadline kept for the final
// commit: a fifth of the drain, at most 5 s.
func commitReserve(drain time.Duration) time.Duration { return min(drain/5, 5*time.Second) }

// Abort abandons in-flight work at once: retries stop, the batches in
// flight are never marked and nothing more is committed, so nothing
// unapplied is committed. Used on the second signal.
func (c *Connector) Abort() { c.gm.Abort() }

func (c *Connector) pollLoop(ctx context.Context) {
	for {
		c.applyRewinds()
		c.waitForRoom(ctx)
		fetches := c.poll(ctx)
		if fetches.IsClientClosed() || ctx.Err() != nil {
			c.cl.AllowRebalance()
			return
		}
		fetches.EachError(func(t string, p int32, err error) {
			if errors.Is(err, context.Canceled) {
				return
			}
			c.log.Warn("fetch error", "topic", t, "partition", p, "err", err)
		})
		fetches.EachPartition(func(fp kgo.FetchTopicPartition) {
			if len(fp.Records) == 0 {
				return
			}
			c.dispatch(fp)
		})
		c.cl.AllowRebalance()
	}
}

// poll is PollRecords, cut short when a partition asks for a rewind.
func (c *Connector) poll(ctx context.Context) kgo.Fetches {
	pctx, cancel := context.WithCancel(ctx)
	defer cancel()
	c.rewindMu.Lock()
	c.pollCancel = cancel
	if len(c.rewinds) > 0 {
		cancel()
	}
	c.rewindMu.Unlock()
	fetches := c.cl.PollRecords(pctx, c.pollLimit())
	c.rewindMu.Lock()
	c.pollCancel = nil
	c.rewindMu.Unlock()
	return fetches
}

// requestRewind queues p's rewind and wakes the poll loop.
func (c *Connector) requestRewind(p *partition) {
	c.rewindMu.Lock()
	c.rewinds = append(c.rewinds, p)
	if c.pollCancel != nil {
		c.pollCancel()
	}
	c.rewindMu.Unlock()
	select {
	case c.room <- struct{}{}: // wakes waitForRoom
	default:
	}
}

// applyRewinds resumes the partitions that let go of their queue while
// stalled and have since completed their batch: their fetch position is
// set back to the end of that batch (everything after it was dropped, and
// nothing after it is marked), then fetching resumes. SetOffsets restarts
// the client's fetch session (fetched but unpolled data of every partition
// is fetched again, which only costs time), so this is for exceptional
// states only. It runs in the poll loop, holding mu, so that a revoke
// cannot take the partition half-way; a partition no longer owned is
// skipped.
func (c *Connector) applyRewinds() {
	c.rewindMu.Lock()
	ps := c.rewinds
	c.rewinds = nil
	c.rewindMu.Unlock()
	if len(ps) == 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	offs := make(map[string]map[int32]kgo.EpochOffset)
	var owned []*partition
	for _, p := range ps {
		if c.parts[p.key] != p {
			continue
		}
		p.mu.Lock()
		if offs[p.key.topic] == nil {
			offs[p.key.topic] = make(map[int32]kgo.EpochOffset)
		}
		offs[p.key.topic][p.key.partition] = p.takenEnd
		p.mu.Unlock()
		owned = append(owned, p)
	}
	if len(owned) == 0 {
		return
	}
	c.cl.SetOffsets(offs)
	for _, p := range owned {
		p.mu.Lock()
		p.rewindPending, p.dropping = false, false
		c.pauser.set(p.key, reasonStalled, false)
		p.mu.Unlock()
		c.log.Info("partition resumed after a stall; fetching again from the end of its last batch",
			"partition", p.key.String(), "offset", p.takenEnd.Offset)
	}
}

// dispatch hands fetched records to their partition worker. It never
// blocks: memory is bounded by the poll loop instead (waitForRoom).
func (c *Connector) dispatch(fp kgo.FetchTopicPartition) {
	key := tp{fp.Topic, fp.Partition}
	c.mu.Lock()
	p := c.parts[key]
	c.mu.Unlock()
	if p == nil {
		// Cannot happen with BlockRebalanceOnPoll (revoked partitions are
		// stripped from polls); drop defensively: nothing is marked, so
		// the next owner re-reads these records.
		c.log.Debug("records for a partition not owned; dropped", "partition", key.String())
		return
	}
	c.m.consumed.Add(float64(len(fp.Records)))
	p.enqueue(fp.Records, fp.HighWatermark)
}

// pollLimit is how many records the next poll may take from the client's
// buffer: as many as fit in the room left under batch.max_inflight_bytes
// at the average size of the records polled so far (at least one; one
// before any record was polled, whose size sets the average: a whole
// fetch response of small compressed records can hold several times
// kafka.fetch_max_bytes once decompressed). Records left in the buffer
// stay there, and the client fetches no more for a broker until its
// buffered response is drained, so a replica holds about
// max_inflight_bytes plus one fetch response per broker, not two.
func (c *Connector) pollLimit() int {
	avg := c.avgRecordSize.Load()
	if avg <= 0 {
		return 1
	}
	room := c.maxInflight() - c.inflight.Load()
	return int(min(max(room/avg, 1), math.MaxInt32))
}

// observeSizes folds the records of one poll into the average record size
// (a moving average: a poll weighs 1/8).
func (c *Connector) observeSizes(records int, bytes int64) {
	if records == 0 {
		return
	}
	sample := max(bytes/int64(records), 1)
	if avg := c.avgRecordSize.Load(); avg > 0 {
		sample = (7*avg + sample) / 8
	}
	c.avgRecordSize.Store(sample)
}

// recordSize is what a record counts against batch.max_bytes: key, value
// and headers. Against batch.max_inflight_bytes it counts fetchedOverhead
// more.
func recordSize(r *kgo.Record) int64 {
	n := len(r.Key) + len(r.Value)
	for _, h := range r.Headers {
		n += len(h.Key) + len(h.Value)
	}
	return int64(n)
}

// fetchedOverhead is the memory a fetched record holds besides its key,
// value and headers: the client's Record, its framing in the decompressed
// batch, and the pointers to it in the client's fetch, the queue and the
// batch. Counted in batch.max_inflight_bytes, it keeps the bound true for
// topics of small records too.
const fetchedOverhead = int64(unsafe.Sizeof(kgo.Record{})) + 64

func (c *Connector) addInflight(n int64) {
	v := c.inflight.Add(n)
	c.m.inflightBytes.Set(float64(v))
	if n < 0 && v < c.maxInflight() {
		select {
		case c.room <- struct{}{}:
		default:
		}
	}
}

func (c *Connector) addDecoded(n int64) {
	if n != 0 {
		c.decoded.Add(n)
	}
}

// decodedShare is how many bytes of decoded records one partition may hold
// before it writes them: batch.max_decoded_bytes over the partitions
// assigned, so that together they hold at most batch.max_decoded_bytes
// (plus the one record each that crosses its share), whatever any of them
// does, stalled ones included.
func (c *Connector) decodedShare() int64 {
	m := int64(c.cfg.Batch.MaxDecodedBytes)
	if m <= 0 {
		return math.MaxInt64
	}
	return m / int64(max(c.nparts.Load(), 1))
}

// flightShare is what the flights of one partition may hold before it
// takes no further one (partition.fullLocked): half of
// batch.max_inflight_bytes over the partitions assigned.
func (c *Connector) flightShare() int64 {
	return c.maxInflight() / 2 / int64(max(c.nparts.Load(), 1))
}

func (c *Connector) maxInflight() int64 {
	if m := int64(c.cfg.Batch.MaxInflightBytes); m > 0 {
		return m
	}
	return math.MaxInt64
}

// waitForRoom blocks the poll loop while the replica holds
// batch.max_inflight_bytes or more. Not polling stops kgo from fetching
// more than the one response per broker it buffers, so a replica holds at
// most max_inflight_bytes plus one poll (bounded by kafka.fetch_max_bytes).
// Rebalances go on meanwhile (AllowRebalance was called after the last
// poll), and so do rewinds.
func (c *Connector) waitForRoom(ctx context.Context) {
	if c.inflight.Load() < c.maxInflight() {
		return
	}
	c.m.fetchBlocked.Set(1)
	defer c.m.fetchBlocked.Set(0)
	for c.inflight.Load() >= c.maxInflight() {
		select {
		case <-c.room:
			c.applyRewinds()
		case <-ctx.Done():
			return
		case <-time.After(time.Second): // a drop from a forgotten partition may have raced the signal
		}
	}
}

// watchStalls pauses fetching of partitions whose batch has been retrying
// for stallPauseAfter, and keeps the lag of paused partitions current,
// until ctx ends.
func (c *Connector) watchStalls(ctx context.Context) {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			var paused []*partition
			c.mu.Lock()
			for _, p := range c.parts {
				p.pauseIfStuck(now, stallPauseAfter)
				if c.pauser.paused(p.key) {
					paused = append(paused, p)
				}
			}
			c.mu.Unlock()
			c.refreshHWMs(ctx, paused)
		}
	}
}

// refreshHWMs lists the end offsets of paused partitions, which no fetch
// reports, so that their lag gauge keeps moving while they are stopped or
// stalled.
func (c *Connector) refreshHWMs(ctx context.Context, ps []*partition) {
	if len(ps) == 0 {
		return
	}
	var topics []string
	for _, p := range ps {
		if !slices.Contains(topics, p.key.topic) {
			topics = append(topics, p.key.topic)
		}
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	ends, err := kadm.NewClient(c.cl).ListEndOffsets(ctx, topics...)
	if err != nil {
		c.log.Debug("listing end offsets of paused partitions", "err", err)
		return
	}
	for _, p := range ps {
		if o, ok := ends.Lookup(p.key.topic, p.key.partition); ok && o.Err == nil {
			p.observeHWM(o.Offset)
		}
	}
}

// stallPauseAfter: a batch retrying this long pauses its partition.
const stallPauseAfter = 5 * time.Second

// onAssigned starts a worker per newly assigned partition (the member's
// tracker owns them already).
func (c *Connector) onAssigned(assigned map[string][]int32) {
	<-c.initDone
	c.mu.Lock()
	defer c.mu.Unlock()
	for topic, ps := range assigned {
		for _, part := range ps {
			key := tp{topic, part}
			if c.parts[key] != nil {
				continue
			}
			p := newPartition(c, key)
			c.parts[key] = p
			c.nparts.Store(int32(len(c.parts)))
			go p.run()
		}
	}
	if h := c.testHooks.afterAssign; h != nil {
		var keys []tp
		for topic, ps := range assigned {
			for _, part := range ps {
				keys = append(keys, tp{topic, part})
			}
		}
		h(keys)
	}
	c.log.Info("partitions assigned", "partitions", formatAssignment(assigned))
}

// onRevoked flushes the batch each revoked partition is writing, commits
// what was applied (the member's commit) and returns; after it returns
// nothing is marked or committed for those partitions.
func (c *Connector) onRevoked(revoked map[string][]int32, commit func(by time.Time) error) {
	<-c.initDone
	parts := c.takePartitions(revoked)
	if len(parts) == 0 {
		return
	}
	c.mu.Lock()
	drainDeadline := c.drainDeadline
	c.mu.Unlock()
	// The flush ends early enough to leave time for the commit: inside the
	// drain deadline on shutdown, inside the rebalance timeout otherwise.
	deadline := drainDeadline.Add(-commitReserve(c.cfg.DrainTimeout))
	commitDeadline := drainDeadline
	if drainDeadline.IsZero() {
		rt := c.cfg.Kafka.RebalanceTimeout
		if rt <= 0 {
			rt = time.Minute
		}
		deadline = time.Now().Add(rt * 3 / 4)
		commitDeadline = deadline.Add(10 * time.Second)
	}
	for _, p := range parts {
		p.stop(false)
	}
	timer := time.NewTimer(time.Until(deadline))
	defer timer.Stop()
	for _, p := range parts {
		select {
		case <-p.done:
		case <-timer.C:
			c.log.Warn("revoke: flush deadline passed; abandoning uncommitted batch", "partition", p.key.String())
			p.stop(true)
			<-p.done
		case <-c.hardCtx.Done():
			p.stop(true)
			<-p.done
		}
	}
	_ = commit(commitDeadline) // errors are logged by the member
	keys := make([]tp, len(parts))
	for i, p := range parts {
		keys[i] = p.key
	}
	for _, p := range parts {
		c.forgetPartition(p)
	}
	if h := c.testHooks.afterRevoke; h != nil {
		h(keys)
	}
	c.log.Info("partitions revoked", "partitions", formatAssignment(revoked))
}

// onLost abandons the lost partitions without committing: another member
// may already own them. The member disowned them before (marks made from
// here on are ignored).
func (c *Connector) onLost(lost map[string][]int32) {
	<-c.initDone
	parts := c.takePartitions(lost)
	for _, p := range parts {
		p.stop(true)
	}
	for _, p := range parts {
		<-p.done
		c.forgetPartition(p)
	}
	if len(parts) > 0 {
		c.log.Warn("partitions lost; nothing committed for them", "partitions", formatAssignment(lost))
	}
}

func (c *Connector) takePartitions(m map[string][]int32) []*partition {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []*partition
	for topic, ps := range m {
		for _, part := range ps {
			key := tp{topic, part}
			if p := c.parts[key]; p != nil {
				out = append(out, p)
				delete(c.parts, key)
			}
			c.nparts.Store(int32(len(c.parts)))
		}
	}
	return out
}

// forgetPartition releases what a stopped partition still held.
func (c *Connector) forgetPartition(p *partition) {
	if n := p.dropQueue(); n > 0 {
		c.addInflight(-n)
	}
	c.pauser.forget(p.key)
	c.m.forgetPartition(p.key)
	p.mu.Lock()
	stopped := p.stoppedErr != nil
	p.mu.Unlock()
	if stopped {
		c.m.stopped.Dec()
	}
}

func (c *Connector) stopAllPartitions() {
	c.mu.Lock()
	parts := make([]*partition, 0, len(c.parts))
	for k, p := range c.parts {
		parts = append(parts, p)
		delete(c.parts, k)
	}
	c.nparts.Store(0)
	c.mu.Unlock()
	for _, p := range parts {
		p.stop(true)
		<-p.done
		c.forgetPartition(p)
	}
}

// Ready reports whether this member is in the group and no partition with
// work has stalled (no batch finished for StallTimeout, e.g. retrying
// against an unavailable Qdrant, or stopped on a bad record without DLQ).
func (c *Connector) Ready() error {
	if err := c.gm.Ready(); err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	now := time.Now()
	for _, p := range c.parts {
		if err := p.stalled(now, c.cfg.StallTimeout); err != nil {
			return err
		}
	}
	return nil
}

func formatAssignment(m map[string][]int32) string {
	s := ""
	for t, ps := range m {
		if s != "" {
			s += " "
		}
		s += fmt.Sprintf("%s%v", t, ps)
	}
	return s
}

// testHooks observe the lifecycle in tests; nil hooks are skipped.
// beforeCommit is called by the test harness, which sees each commit in
// the member's debug log ("committing offsets").
type testHooks struct {
	afterAssign  func([]tp)
	afterRevoke  func([]tp)
	beforeCommit func(map[string]map[int32]kgo.EpochOffset)
}
