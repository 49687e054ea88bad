package statusview

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/seed-a550a1ef/kafka-qdrant/internal/backoff"
	"github.com/seed-a550a1ef/kafka-qdrant/schemas"
)

// Fetch sizing: one request per partition; a long poll of fetchWait when
// there is nothing new.
const (
	fetchWait      = 500 * time.Millisecond
	fetchMaxBytes  = 64 << 20
	fetchPartBytes = 16 << 20
)

// Follower reads the status topic from its start into a View, at
// read_committed (events of aborted or still-open transactions are never
// seen). It tracks its own position per partition from the fetch
// responses, so it knows it reached the end even when the tail of the log
// holds no records (transaction markers, deleted records, a tombstone or
// an aborted transaction cleaned away by compaction). Create it with
// NewFollower, run Run in a goroutine, and Close it when done.
type Follower struct {
	topic string
	view  *View
	log   *slog.Logger
	cl    *kgo.Client
	adm   *kadm.Client

	mu   sync.Mutex
	next map[int32]int64 // partition -> next offset to read
	tick chan struct{}   // closed and replaced after every advance
	err  error           // the last read error, nil after a success
	// failingSince is when reads started failing (zero while they work).
	failingSince time.Time
	// observe, when set, sees every applied event (SetObserver).
	observe func(schemas.Status, Position)
	// only, when set, are the keys (command ids) the view keeps (KeepOnly).
	only map[string]bool
}

// NewFollower returns a follower of topic into view. base are the
// connection options (seed brokers, TLS, SASL); the follower owns the
// client it creates.
func NewFollower(base []kgo.Opt, topic string, view *View, log *slog.Logger) (*Follower, error) {
	if log == nil {
		log = slog.Default()
	}
	cl, err := kgo.NewClient(slices.Clone(base)...)
	if err != nil {
		return nil, fmt.Errorf("creating status topic client: %w", err)
	}
	return &Follower{
		topic: topic, view: view, log: log, cl: cl, adm: kadm.NewClient(cl),
		next: map[int32]int64{}, tick: make(chan struct{}),
	}, nil
}

// SetObserver makes fn see every event the follower applies, in topic
// order, with the follower's lock held (fn must be quick and must not call
// the follower). Set it before Run.
func (f *Follower) SetObserver(fn func(schemas.Status, Position)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.observe = fn
}

// KeepOnly restricts the view to the commands ids (records of other keys
// are skipped undecoded): for a reader interested in one command. Set it
// before Run.
func (f *Follower) KeepOnly(ids ...string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.only = map[string]bool{}
	for _, id := range ids {
		f.only[id] = true
	}
}

// View returns the view the follower fills.
func (f *Follower) View() *View { return f.view }

// Run reads until ctx ends or the follower is closed: one reader per
// partition. Undecodable events are logged and skipped.
func (f *Follower) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	defer wg.Wait()
	b := backoff.Backoff{Initial: 100 * time.Millisecond, Max: 5 * time.Second}
	for {
		md, err := f.metadata(ctx)
		if err == nil {
			for _, p := range md.parts {
				wg.Go(func() { f.readPartition(ctx, md.id, p) })
			}
			return nil
		}
		if ctx.Err() != nil {
			return nil
		}
		f.fail(err)
		if backoff.Sleep(ctx, b.Next()) != nil {
			return nil
		}
	}
}

type topicMeta struct {
	id    [16]byte
	parts []int32
}

func (f *Follower) metadata(ctx context.Context) (topicMeta, error) {
	md, err := f.adm.Metadata(ctx, f.topic)
	if err != nil {
		return topicMeta{}, fmt.Errorf("reading metadata of %s: %w", f.topic, err)
	}
	t, ok := md.Topics[f.topic]
	switch {
	case !ok:
		return topicMeta{}, fmt.Errorf("topic %s: %w", f.topic, kerr.UnknownTopicOrPartition)
	case t.Err != nil:
		return topicMeta{}, fmt.Errorf("topic %s: %w", f.topic, t.Err)
	case len(t.Partitions) == 0:
		return topicMeta{}, fmt.Errorf("topic %s has no partitions", f.topic)
	}
	out := topicMeta{id: t.ID}
	for _, p := range t.Partitions.Sorted() {
		out.parts = append(out.parts, p.Partition)
	}
	return out, nil
}

// readPartition fetches partition p from its leader until ctx ends.
func (f *Follower) readPartition(ctx context.Context, id [16]byte, p int32) {
	b := backoff.Backoff{Initial: 100 * time.Millisecond, Max: 5 * time.Second}
	leader := int32(-1)
	for ctx.Err() == nil {
		if leader < 0 {
			l, err := f.leader(ctx, p)
			if err != nil {
				f.fail(err)
				if backoff.Sleep(ctx, b.Next()) != nil {
					return
				}
				continue
			}
			leader = l
		}
		err := f.fetch(ctx, id, p, leader)
		switch {
		case err == nil:
			b.Reset()
			continue
		case ctx.Err() != nil:
			return
		case errors.Is(err, kerr.OffsetOutOfRange):
			err = f.resetToStart(ctx, p)
		}
		if err != nil {
			f.fail(err)
			leader = -1
			if backoff.Sleep(ctx, b.Next()) != nil {
				return
			}
		}
	}
}

func (f *Follower) leader(ctx context.Context, p int32) (int32, error) {
	md, err := f.adm.Metadata(ctx, f.topic)
	if err != nil {
		return -1, fmt.Errorf("reading metadata of %s: %w", f.topic, err)
	}
	pd, ok := md.Topics[f.topic].Partitions[p]
	if !ok || pd.Err != nil || pd.Leader < 0 {
		return -1, fmt.Errorf("no leader for %s/%d", f.topic, p)
	}
	return pd.Leader, nil
}

// fetch issues one read_committed fetch of p at the follower's position
// and applies what it returns.
func (f *Follower) fetch(ctx context.Context, id [16]byte, p, leader int32) error {
	f.mu.Lock()
	at := f.next[p]
	f.mu.Unlock()

	req := kmsg.NewPtrFetchRequest()
	req.ReplicaID = -1
	req.MaxWaitMillis = int32(fetchWait.Milliseconds())
	req.MinBytes = 1
	req.MaxBytes = fetchMaxBytes
	req.IsolationLevel = 1 // read_committed
	req.SessionEpoch = -1  // no fetch session
	rt := kmsg.NewFetchRequestTopic()
	rt.Topic, rt.TopicID = f.topic, id
	rp := kmsg.NewFetchRequestTopicPartition()
	rp.Partition, rp.FetchOffset, rp.PartitionMaxBytes = p, at, fetchPartBytes
	rp.CurrentLeaderEpoch, rp.LogStartOffset = -1, -1
	rt.Partitions = append(rt.Partitions, rp)
	req.Topics = append(req.Topics, rt)

	rctx, cancel := context.WithTimeout(ctx, fetchWait+10*time.Second)
	defer cancel()
	kresp, err := f.cl.Broker(int(leader)).Request(rctx, req)
	if err != nil {
		return fmt.Errorf("fetching %s/%d: %w", f.topic, p, err)
	}
	resp := kresp.(*kmsg.FetchResponse)
	if err := kerr.ErrorForCode(resp.ErrorCode); err != nil {
		return fmt.Errorf("fetching %s/%d: %w", f.topic, p, err)
	}
	if len(resp.Topics) != 1 || len(resp.Topics[0].Partitions) != 1 {
		return fmt.Errorf("fetching %s/%d: unexpected response shape", f.topic, p)
	}
	part := &resp.Topics[0].Partitions[0]
	if err := kerr.ErrorForCode(part.ErrorCode); err != nil {
		return fmt.Errorf("fetching %s/%d at %d: %w", f.topic, p, at, err)
	}
	fp, next := kgo.ProcessFetchPartition(kgo.ProcessFetchPartitionOpts{
		Offset: at, IsolationLevel: kgo.ReadCommitted(), Topic: f.topic, Partition: p,
	}, part, kgo.DefaultDecompressor(), nil)
	if fp.Err != nil {
		return fmt.Errorf("reading %s/%d at %d: %w", f.topic, p, at, fp.Err)
	}
	if len(part.RecordBatches) == 0 {
		// Nothing at or after our position below the last stable offset:
		// the range up to it is empty (deleted, compacted away, or only
		// markers already passed).
		next = max(at, part.LastStableOffset)
	}
	f.apply(p, fp.Records, next)
	return nil
}

// apply applies records of p and moves p's position to next.
func (f *Follower) apply(p int32, recs []*kgo.Record, next int64) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.observe != nil {
		for _, r := range recs {
			f.applyOne(p, r, nil)
		}
	} else {
		f.applyLatest(p, recs)
	}
	advanced := next > f.next[p]
	if advanced {
		f.next[p] = next
	}
	f.err, f.failingSince = nil, time.Time{}
	if advanced || len(recs) > 0 {
		close(f.tick)
		f.tick = make(chan struct{})
	}
}

// applyOne applies one record (s: r decoded already). f.mu is held.
func (f *Follower) applyOne(p int32, r *kgo.Record, s *schemas.Status) {
	if f.only != nil && !f.only[string(r.Key)] {
		return
	}
	at := Position{Partition: p, Offset: r.Offset}
	if r.Value == nil {
		f.view.Delete(string(r.Key))
		return
	}
	if s == nil {
		d, ok := f.decode(p, r)
		if !ok {
			return
		}
		s = &d
	}
	f.view.Apply(*s, at)
	if f.observe != nil {
		f.observe(*s, at)
	}
}

func (f *Follower) decode(p int32, r *kgo.Record) (schemas.Status, bool) {
	s, err := schemas.DecodeStatus(r.Value)
	if err != nil {
		f.log.Warn("skipping undecodable status event", "partition", p, "offset", r.Offset, "err", err)
		return s, false
	}
	return s, true
}

// applyLatest applies what decides the view's state after recs: per key,
// its last record, and when that is a non-final event, the last final one
// before it (a final is sticky) — unless a tombstone comes between. The
// other events of a key in the batch could not change the view, so they
// are not even decoded: catching up with a long topic decodes about one
// event per command. f.mu is held.
func (f *Follower) applyLatest(p int32, recs []*kgo.Record) {
	type pick struct {
		r *kgo.Record
		s *schemas.Status
	}
	var picks []pick // in reverse topic order
	seekFinal := map[string]bool{}
	done := map[string]bool{}
	for i := len(recs) - 1; i >= 0; i-- {
		r := recs[i]
		k := string(r.Key)
		if done[k] || f.only != nil && !f.only[k] {
			continue
		}
		if r.Value == nil {
			if !seekFinal[k] {
				picks = append(picks, pick{r: r})
			}
			done[k] = true
			continue
		}
		s, ok := f.decode(p, r)
		if !ok {
			continue
		}
		switch {
		case s.State.Final():
			picks = append(picks, pick{r, &s})
			done[k] = true
		case !seekFinal[k]:
			picks = append(picks, pick{r, &s})
			seekFinal[k] = true
		}
	}
	for i := len(picks) - 1; i >= 0; i-- {
		f.applyOne(p, picks[i].r, picks[i].s)
	}
}

// resetToStart moves p's position to the log start after the records
// before it were deleted.
func (f *Follower) resetToStart(ctx context.Context, p int32) error {
	starts, err := f.adm.ListStartOffsets(ctx, f.topic)
	if err != nil {
		return fmt.Errorf("listing start offsets of %s: %w", f.topic, err)
	}
	o, ok := starts.Lookup(f.topic, p)
	if !ok || o.Err != nil {
		return fmt.Errorf("no start offset for %s/%d", f.topic, p)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if o.Offset > f.next[p] {
		f.log.Info("status events before the log start were deleted; skipping to it", "partition", p, "from", f.next[p], "to", o.Offset)
		f.next[p] = o.Offset
	} else {
		// Our position is past the end: the topic was recreated.
		f.log.Warn("status topic position past its end (topic recreated?); reading it again from the start", "partition", p, "position", f.next[p], "start", o.Offset)
		f.next[p] = o.Offset
	}
	close(f.tick)
	f.tick = make(chan struct{})
	return nil
}

func (f *Follower) fail(err error) {
	f.mu.Lock()
	f.err = err
	if f.failingSince.IsZero() {
		f.failingSince = time.Now()
	}
	f.mu.Unlock()
	f.log.Warn("reading status topic", "topic", f.topic, "err", err)
}

// Sync waits until the view holds every committed event that was in the
// topic when Sync was called: the follower's position reached each
// partition's last stable offset (read-your-writes for anything published
// and acknowledged before). It needs Run to be running; ctx bounds it.
func (f *Follower) Sync(ctx context.Context) error {
	ends, err := f.adm.ListCommittedOffsets(ctx, f.topic)
	if err == nil {
		err = ends.Error()
	}
	if err != nil {
		return fmt.Errorf("listing end offsets of %s: %w", f.topic, err)
	}
	want := map[int32]int64{}
	ends.Each(func(o kadm.ListedOffset) { want[o.Partition] = o.Offset })
	return f.WaitFor(ctx, func(*View) bool { return f.reachedLocked(want) })
}

// reachedLocked reports whether every partition's position is at or past
// want. f.mu is held.
func (f *Follower) reachedLocked(want map[int32]int64) bool {
	for p, end := range want {
		if end > 0 && f.next[p] < end {
			return false
		}
	}
	return true
}

// Failing returns since when reading the topic has been failing and the
// last error; a zero time while reads work.
func (f *Follower) Failing() (since time.Time, err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.failingSince, f.err
}

// WaitFor waits until cond (called with the follower's lock held, after
// each advance, so it must be quick and not call Sync or WaitFor) holds or
// ctx ends.
func (f *Follower) WaitFor(ctx context.Context, cond func(*View) bool) error {
	for {
		f.mu.Lock()
		ok := cond(f.view)
		tick := f.tick
		f.mu.Unlock()
		if ok {
			return nil
		}
		select {
		case <-ctx.Done():
			return context.Cause(ctx)
		case <-tick:
		}
	}
}

// Close closes the client; Run returns.
func (f *Follower) Close() { f.cl.Close() }
