package connector

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/seed-a550a1ef/kafka-qdrant/internal/backoff"
	"github.com/seed-a550a1ef/kafka-qdrant/internal/groupmember"
	"github.com/seed-a550a1ef/kafka-qdrant/schemas"
	"github.com/seed-a550a1ef/kafka-qdrant/sink"
)

// partition is the ordered pipeline of one assigned partition: one
// goroutine takes batches from its queue, decodes, checks and writes them,
// dead-letters the bad records and then marks the batch's end offset. It
// processes one batch at a time, so the mark is always "everything below
// this offset is applied or dead-lettered".
type partition struct {
	c   *Connector
	key tp
	dec *schemas.FormatDecoder

	// ctx is cancelled to abandon work at once (lost partition, drain
	// deadline, hard stop).
	ctx    context.Context
	cancel context.CancelFunc
	done   chan struct{}

	mu          sync.Mutex
	queue       []*kgo.Record
	sizes       []int64 // recordSize of queue[i]
	queuedBytes int64
	stopping    bool            // finish the current batch, then exit
	busy        bool            // a batch is being processed
	batchStart  time.Time       // when the batch in process started
	batchEnd    kgo.EpochOffset // the offset after the batch in process
	stallPaused bool            // fetching paused because the batch is stuck retrying
	// dropping: the partition let go of its queue (stopped, or paused
	// while stalled) and drops what is still dispatched to it; nothing
	// past its mark is committed, so the records are read again after a
	// rewind (rewindPending) or by the next owner.
	dropping      bool
	rewindPending bool // the poll loop must rewind fetching to batchEnd, then resume
	stoppedErr    error
	lastDone      time.Time
	wake          chan struct{}

	// Lag: hwm is the highest high watermark seen (fetches, or listed
	// offsets while fetching is paused); next is the offset of the first
	// record not yet finished (the mark, or the first offset fetched).
	hwm       int64
	next      int64
	nextKnown bool
	lag       prometheus.Gauge

	// per-batch scratch, reused
	recs   []schemas.Record
	ops    map[string][]sink.Op
	colls  []string
	failed []failedRecord

	// work is the batch in process in the member's tracker: takeLocked
	// takes it, markDone marks it.
	work *groupmember.Work
}

type failedRecord struct {
	rec *kgo.Record
	err *schemas.RecordError
}

func newPartition(c *Connector, key tp) *partition {
	p := &partition{
		c:        c,
		key:      key,
		dec:      c.decoders.For(key.topic),
		done:     make(chan struct{}),
		wake:     make(chan struct{}, 1),
		lastDone: time.Now(),
		ops:      make(map[string][]sink.Op),
		lag:      c.m.lagGauge(key),
	}
	p.ctx, p.cancel = context.WithCancel(c.hardCtx)
	return p
}

func (p *partition) signal() {
	select {
	case p.wake <- struct{}{}:
	default:
	}
}

// enqueue appends fetched records and counts their bytes as in flight; it
// never blocks. Memory is bounded by the poll loop, which stops polling
// above batch.max_inflight_bytes. Each record's size is computed once,
// here, and kept beside it for takeLocked. A partition that is dropping
// (or stopping) drops them: they are read again later.
func (p *partition) enqueue(recs []*kgo.Record, hwm int64) {
	p.mu.Lock()
	if !p.nextKnown {
		p.next, p.nextKnown = recs[0].Offset, true
	}
	p.observeHWMLocked(hwm)
	if p.stopping || p.dropping {
		p.mu.Unlock()
		return
	}
	var n int64
	for _, r := range recs {
		s := recordSize(r)
		p.sizes = append(p.sizes, s)
		n += s
	}
	// Counted before the worker can see (and uncount) the records.
	p.c.addInflight(n)
	p.queue = append(p.queue, recs...)
	p.queuedBytes += n
	p.mu.Unlock()
	p.signal()
}

// observeHWMLocked raises the high watermark and updates the lag gauge.
// Called with mu held.
func (p *partition) observeHWMLocked(hwm int64) {
	if hwm > p.hwm {
		p.hwm = hwm
	}
	if p.nextKnown {
		p.lag.Set(float64(max(p.hwm-p.next, 0)))
	}
}

// observeHWM is observeHWMLocked for callers without mu (listed offsets of
// paused partitions).
func (p *partition) observeHWM(hwm int64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.observeHWMLocked(hwm)
}

// stop asks the worker to finish its current batch and exit; abandon also
// cancels the batch in flight (nothing more is marked).
func (p *partition) stop(abandon bool) {
	p.mu.Lock()
	p.stopping = true
	p.mu.Unlock()
	if abandon {
		p.cancel()
	}
	p.signal()
}

// dropQueue empties the queue after the worker exited; returns the bytes.
func (p *partition) dropQueue() int64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.dropQueueLocked()
}

// dropQueueLocked empties the queue and returns its bytes, which the
// caller releases. Called with mu held.
func (p *partition) dropQueueLocked() int64 {
	n := p.queuedBytes
	p.queue, p.sizes, p.queuedBytes = nil, nil, 0
	return n
}

// letGoLocked makes the partition drop its queue and whatever is still
// dispatched to it, and releases the queue's bytes, so that a partition
// that cannot make progress holds no more than the batch it is writing.
// Called with mu held, after fetching was paused.
func (p *partition) letGoLocked() {
	p.dropping = true
	if n := p.dropQueueLocked(); n > 0 {
		p.c.addInflight(-n)
	}
}

// pauseIfStuck pauses fetching while the batch in process has been
// retrying for longer than after (Qdrant unavailable, a write lock, a rate
// limit), and lets go of the queue behind the batch, so that the partition
// holds none of the other partitions' share of
// batch.max_inflight_bytes. When the batch completes, the poll loop
// rewinds fetching to the batch's end and resumes it (applyRewinds).
// Pausing under mu keeps pause and resume in the order their decisions
// were made.
func (p *partition) pauseIfStuck(now time.Time, after time.Duration) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.busy && !p.stallPaused && now.Sub(p.batchStart) > after {
		p.stallPaused = true
		p.c.pauser.set(p.key, reasonStalled, true)
		p.letGoLocked()
	}
}

// paused reports whether fetching of the partition is paused (no fetch
// brings its high watermark).
func (p *partition) paused() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.stallPaused || p.rewindPending || p.stoppedErr != nil
}

func (p *partition) stalled(now time.Time, limit time.Duration) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.stoppedErr != nil {
		return fmt.Errorf("partition %s stopped: %w", p.key, p.stoppedErr)
	}
	if (p.busy || len(p.queue) > 0) && now.Sub(p.lastDone) > limit {
		return fmt.Errorf("partition %s made no progress for %s", p.key, now.Sub(p.lastDone).Round(time.Second))
	}
	return nil
}

func (p *partition) run() {
	defer close(p.done)
	defer p.cancel()
	for {
		batch, bytes := p.nextBatch()
		if batch == nil {
			return
		}
		err := p.process(batch)
		p.mu.Lock()
		p.busy = false
		rewind := false
		if p.stallPaused {
			p.stallPaused = false
			switch {
			case err == nil && p.dropping && p.stoppedErr == nil:
				// Fetching resumes from the batch's end, after the poll
				// loop rewound it (applyRewinds).
				p.rewindPending, rewind = true, true
			default:
				p.c.pauser.set(p.key, reasonStalled, false)
			}
		}
		p.mu.Unlock()
		p.c.addInflight(-bytes)
		if rewind {
			p.c.requestRewind(p)
		}
		if err != nil {
			// ctx ended: the batch is abandoned unmarked.
			return
		}
	}
}

// nextBatch waits until a batch is ready: batch.max_records or
// batch.max_bytes reached, or batch.linger passed since the first record
// arrived, or stop was asked (then whatever is queued is left unprocessed
// and nil is returned).
func (p *partition) nextBatch() ([]*kgo.Record, int64) {
	b := p.c.cfg.Batch
	var lingerC <-chan time.Time
	var timer *time.Timer
	defer func() {
		if timer != nil {
			timer.Stop()
		}
	}()
	for {
		p.mu.Lock()
		if p.stopping {
			p.mu.Unlock()
			return nil, 0
		}
		if p.stoppedErr != nil || p.c.pauses.holds(p) {
			// A stopped partition waits for revoke, loss or shutdown; a
			// held one for its release (datapause.go).
			p.mu.Unlock()
			select {
			case <-p.wake:
				continue
			case <-p.ctx.Done():
				return nil, 0
			}
		}
		n := len(p.queue)
		ready := n >= b.MaxRecords || p.queuedBytes >= int64(b.MaxBytes) || (n > 0 && b.Linger <= 0)
		if n > 0 && !ready && lingerC == nil {
			timer = time.NewTimer(b.Linger)
			lingerC = timer.C
		}
		if ready {
			batch, bytes := p.takeLocked(b.MaxRecords, int64(b.MaxBytes))
			p.mu.Unlock()
			return batch, bytes
		}
		p.mu.Unlock()
		select {
		case <-p.wake:
		case <-lingerC:
			p.mu.Lock()
			if p.stopping || len(p.queue) == 0 || p.c.pauses.holds(p) {
				p.mu.Unlock()
				lingerC = nil
				continue
			}
			batch, bytes := p.takeLocked(b.MaxRecords, int64(b.MaxBytes))
			p.mu.Unlock()
			return batch, bytes
		case <-p.ctx.Done():
			return nil, 0
		}
	}
}

// takeLocked removes up to maxRecords / maxBytes (at least one record)
// from the queue. Called with mu held.
func (p *partition) takeLocked(maxRecords int, maxBytes int64) ([]*kgo.Record, int64) {
	var n int
	var bytes int64
	for n < len(p.queue) && n < maxRecords {
		s := p.sizes[n]
		if n > 0 && bytes+s > maxBytes {
			break
		}
		bytes += s
		n++
	}
	batch := make([]*kgo.Record, n)
	copy(batch, p.queue[:n])
	clear(p.queue[:n])
	p.queue, p.sizes = p.queue[n:], p.sizes[n:]
	if len(p.queue) == 0 {
		p.queue, p.sizes = nil, nil // let the backing arrays go
	}
	p.queuedBytes -= bytes
	p.busy = true
	p.batchStart = time.Now()
	last := batch[n-1]
	p.batchEnd = kgo.EpochOffset{Epoch: last.LeaderEpoch, Offset: last.Offset + 1}
	p.work = p.c.gm.Take(p.key.topic, p.key.partition, kgo.EpochOffset{Epoch: batch[0].LeaderEpoch, Offset: batch[0].Offset}, p.batchEnd)
	return batch, bytes
}

// process runs one batch through decode → route → check → write → DLQ and
// marks its end offset. It returns an error only when the partition's ctx
// ended (the batch is then abandoned, unmarked).
//
// Decoded records can hold many times their Kafka bytes, so a batch is
// written in pieces: once the records decoded and not yet written would
// exceed the partition's share of batch.max_decoded_bytes (decodedShare),
// they are written and let go before the next one is kept. Marking still
// waits for the whole batch.
func (p *partition) process(batch []*kgo.Record) error {
	c := p.c
	ctx := p.ctx
	if cap(p.recs) < len(batch) {
		p.recs = make([]schemas.Record, len(batch))
	}
	recs := p.recs[:len(batch)]
	clear(p.ops)
	p.colls = p.colls[:0]
	p.failed = p.failed[:0]
	share := c.decodedShare()
	var held int64 // MemBytes of recs[from:]
	from := 0
	defer func() {
		clear(recs[from:]) // drop references to protobufs now that they are sent
		c.addDecoded(-held)
	}()

	for i, r := range batch {
		rec, err := p.decode(r)
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			p.fail(r, err)
			continue
		}
		if n := int64(rec.MemBytes); held > 0 && held+n > share {
			if err := p.write(batch); err != nil {
				return err
			}
			clear(recs[from:i])
			c.addDecoded(-held)
			from, held = i, 0
		}
		recs[i] = rec
		held += int64(rec.MemBytes)
		c.addDecoded(int64(rec.MemBytes))
		coll, err := c.decoders.router.collection(r.Topic, rec.Collection)
		if err != nil {
			p.fail(r, err)
			continue
		}
		if err := c.cfg.Sink.Check(ctx, coll, &recs[i]); err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			p.fail(r, err)
			continue
		}
		if len(p.ops[coll]) == 0 {
			p.colls = append(p.colls, coll)
		}
		p.ops[coll] = append(p.ops[coll], sink.Op{Record: &recs[i], Offset: r.Offset, Partition: r.Partition, Ref: i})
	}
	if err := p.write(batch); err != nil {
		return err
	}

	last := batch[len(batch)-1]
	if len(p.failed) > 0 {
		if c.cfg.Kafka.DLQTopic == "" {
			return p.stopOnBadRecord(batch)
		}
		if err := c.deadLetter(ctx, p.failed); err != nil {
			return err
		}
	}
	p.markDone(kgo.EpochOffset{Epoch: last.LeaderEpoch, Offset: last.Offset + 1})
	return nil
}

// decode decodes one record in its topic's format. While the Schema
// Registry cannot be asked (schemas.UnavailableError) it retries the
// record with a capped, jittered backoff until the registry answers or the
// partition's context ends: the record is not at fault, so it is never
// dead-lettered for it, and the batch waits as it waits for Qdrant (the
// partition is paused after 5 s, and Ready reports it after
// StallTimeout).
func (p *partition) decode(r *kgo.Record) (schemas.Record, error) {
	b := backoff.Backoff{Initial: 100 * time.Millisecond, Max: 10 * time.Second}
	for {
		rec, err := p.dec.Decode(p.ctx, r.Key, r.Value)
		var unavailable *schemas.UnavailableError
		if !errors.As(err, &unavailable) {
			return rec, err
		}
		p.c.m.retries.WithLabelValues("schema_registry").Inc()
		if n := b.Attempts(); n == 0 || n%10 == 0 {
			p.c.log.Warn("schema registry unavailable; retrying the record", "partition", p.key.String(),
				"offset", r.Offset, "attempt", n+1, "err", err)
		}
		if err := backoff.Sleep(p.ctx, b.Next()); err != nil {
			return schemas.Record{}, err
		}
	}
}

// write applies the ops collected so far, collection by collection, notes
// the records Qdrant rejected, and empties the ops.
func (p *partition) write(batch []*kgo.Record) error {
	for _, coll := range p.colls {
		ops := p.ops[coll]
		rejected, err := p.c.cfg.Sink.Write(p.ctx, coll, ops)
		if err != nil {
			return err
		}
		for _, rj := range rejected {
			p.fail(batch[rj.Op.Ref], rj.Err)
		}
		clear(ops)
		p.ops[coll] = ops[:0]
	}
	p.colls = p.colls[:0]
	return nil
}

func (p *partition) fail(r *kgo.Record, err error) {
	re, ok := schemas.AsRecordError(err)
	if !ok {
		re = &schemas.RecordError{Class: schemas.ClassValidate, Stage: schemas.StageValidate, Err: err}
	}
	p.failed = append(p.failed, failedRecord{rec: r, err: re})
}

func (p *partition) markDone(eo kgo.EpochOffset) {
	p.work.DoneUpTo(eo)
	now := time.Now()
	p.mu.Lock()
	p.lastDone = now
	p.next, p.nextKnown = eo.Offset, true
	p.observeHWMLocked(p.hwm)
	p.mu.Unlock()
}

// stopOnBadRecord handles bad input without a DLQ: everything before the
// first bad record is marked, the partition stops (fetching paused, its
// queue let go) and stays stopped until it is revoked or the process
// restarts. The bad record is never skipped.
func (p *partition) stopOnBadRecord(batch []*kgo.Record) error {
	first := p.failed[0]
	for _, f := range p.failed[1:] {
		if f.rec.Offset < first.rec.Offset {
			first = f
		}
	}
	if first.rec != batch[0] {
		var prev *kgo.Record
		for _, r := range batch {
			if r.Offset >= first.rec.Offset {
				break
			}
			prev = r
		}
		if prev != nil {
			p.markDone(kgo.EpochOffset{Epoch: prev.LeaderEpoch, Offset: prev.Offset + 1})
		}
	}
	err := fmt.Errorf("bad record at offset %d (%s: %s) and no kafka.dlq_topic configured; partition stopped",
		first.rec.Offset, first.err.Class, first.err.Error())
	p.c.log.Error("partition stopped on a bad record", "partition", p.key.String(), "offset", first.rec.Offset,
		"class", string(first.err.Class), "stage", string(first.err.Stage), "err", first.err.Error())
	p.c.m.stopped.Inc()
	p.mu.Lock()
	p.c.pauser.set(p.key, reasonStopped, true)
	p.stoppedErr = err
	p.letGoLocked()
	p.mu.Unlock()
	return nil
}
