package connector

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/seed-a550a1ef/kafka-qdrant/internal/backoff"
	"github.com/seed-a550a1ef/kafka-qdrant/internal/groupmember"
	"github.com/seed-a550a1ef/kafka-qdrant/schemas"
	"github.com/seed-a550a1ef/kafka-qdrant/sink"
)

// partition is the ordered pipeline of one assigned partition. One
// goroutine (run) takes batches from its queue in offset order and decodes,
// routes and checks them; their writes run in goroutines of their own, up
// to batch.max_inflight_per_partition batches in flight at once; each batch
// is finished (dead letters, then its mark) in offset order:
//
//	queue ─take─▶ flight: decode → route → Check → piece ─launch─▶ write
//	                                 (waits while a write in flight holds one of its ids)
//	flights finish in order: DLQ → mark (Work.Done) → next flight
//
// A flight is a batch in flight: taken and not yet finished. Its records
// are written in pieces (one, unless the partition's share of
// batch.max_decoded_bytes is reached first). Two pieces in flight never
// hold the same point id (idKeys), so writes that overlap in time commute
// and per-id order is Kafka order. A flight is marked only once every
// piece of it is written and its bad records are dead-lettered, and the
// flights before it are marked: the mark is always "everything below this
// offset is applied or dead-lettered".
type partition struct {
	c   *Connector
	key tp
	dec *schemas.FormatDecoder
	// maxFlights is batch.max_inflight_per_partition.
	maxFlights int

	// ctx is cancelled to abandon work at once (lost partition, drain
	// deadline, hard stop).
	ctx    context.Context
	cancel context.CancelFunc
	done   chan struct{}

	mu          sync.Mutex
	queue       []*kgo.Record
	sizes       []int64 // recordSize of queue[i]
	queuedBytes int64   // the sum of sizes
	stopping    bool    // finish the flights, take no more, then exit
	// flights are the batches in flight in offset order: run appends,
	// finishFlights removes the head.
	flights     []*flight
	flightBytes int64           // what the flights count in Connector.inflight
	takenEnd    kgo.EpochOffset // the offset after the last batch taken
	// finishing: a goroutine is finishing the head flights.
	finishing bool
	// abandoned: a flight ended unfinished (ctx ended); nothing after it
	// is marked.
	abandoned   bool
	stallPaused bool // fetching paused because the oldest flight is stuck retrying
	// dropping: the partition let go of its queue (stopped, or paused
	// while stalled) and drops what is still dispatched to it; nothing
	// past its mark is committed, so the records are read again after a
	// rewind (rewindPending) or by the next owner.
	dropping      bool
	rewindPending bool // the poll loop must rewind fetching to takenEnd, then resume
	stoppedErr    error
	lastDone      time.Time
	wake          chan struct{}

	// Pieces being written: how many, the hashes of their point ids
	// (schemas.IDKey.Hash, counted), and the decoded bytes the partition
	// holds (pieces in flight and the piece being filled).
	writes int
	idKeys map[uint64]int32
	held   int64

	// Lag: hwm is the highest high watermark seen (fetches, or listed
	// offsets while fetching is paused); next is the offset of the first
	// record not yet finished (the mark, or the first offset fetched).
	hwm       int64
	next      int64
	nextKnown bool
	lag       prometheus.Gauge

	// Finished flights and written pieces, for reuse.
	freeFlights []*flight
	freePieces  []*piece
}

// flight is one batch in flight.
type flight struct {
	records []*kgo.Record
	bytes   int64 // what records count in Connector.inflight
	start   time.Time
	end     kgo.EpochOffset
	// work is the batch's range in the member's tracker.
	work *groupmember.Work
	// recs are the decoded records; ops point into it, so it is sized
	// once, before the first piece is launched.
	recs []schemas.Record
	// pending is 1 while the batch is decoded plus the pieces not yet
	// written; the flight can finish at 0. Under partition.mu.
	pending int
	// err is why the flight cannot finish (ctx ended). Under mu.
	err error
	// failed are the bad records (decode, route, check, Qdrant's
	// rejections). Under mu.
	failed []failedRecord
}

// piece is records of a flight written together: the ops of each
// collection, with the hashes of their point ids.
type piece struct {
	f      *flight
	colls  []string
	ops    map[string][]sink.Op
	hashes []uint64
	// held is Record.MemBytes of the records the piece holds; recs[from:to]
	// are its records (failed ones included), let go once it is written.
	held     int64
	from, to int
}

type failedRecord struct {
	rec *kgo.Record
	err *schemas.RecordError
}

func newPartition(c *Connector, key tp) *partition {
	p := &partition{
		c:          c,
		key:        key,
		dec:        c.decoders.For(key.topic),
		maxFlights: max(c.cfg.Batch.MaxInflightPerPartition, 1),
		done:       make(chan struct{}),
		wake:       make(chan struct{}, 1),
		lastDone:   time.Now(),
		idKeys:     make(map[uint64]int32),
		lag:        c.m.lagGauge(key),
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
	held := n + int64(len(recs))*fetchedOverhead
	p.c.addInflight(held)
	p.c.observeSizes(len(recs), held)
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

// stop asks the worker to finish its flights and exit; abandon also
// cancels the flights (nothing more is marked).
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
	n := p.queuedBytes + int64(len(p.queue))*fetchedOverhead
	p.queue, p.sizes, p.queuedBytes = nil, nil, 0
	return n
}

// letGoLocked makes the partition drop its queue and whatever is still
// dispatched to it, and releases the queue's bytes, so that a partition
// that cannot make progress holds no more than its flights. Called with
// mu held, after fetching was paused.
func (p *partition) letGoLocked() {
	p.dropping = true
	if n := p.dropQueueLocked(); n > 0 {
		p.c.addInflight(-n)
	}
}

// pauseIfStuck pauses fetching while the oldest flight has been in flight
// for longer than after (Qdrant unavailable, a write lock, a rate limit),
// and lets go of the queue behind the flights, so that the partition
// holds none of the other partitions' share of batch.max_inflight_bytes.
// When the last flight finishes, the poll loop rewinds fetching to the end
// of the last batch taken and resumes it (applyRewinds). Pausing under mu
// keeps pause and resume in the order their decisions were made.
func (p *partition) pauseIfStuck(now time.Time, after time.Duration) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.flights) > 0 && !p.stallPaused && now.Sub(p.flights[0].start) > after {
		p.stallPaused = true
		p.c.pauser.set(p.key, reasonStalled, true)
		p.letGoLocked()
	}
}

func (p *partition) stalled(now time.Time, limit time.Duration) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.stoppedErr != nil {
		return fmt.Errorf("partition %s stopped: %w", p.key, p.stoppedErr)
	}
	// Records a data pause holds back are not a stall (the replica does
	// what it was asked); flights that do not finish are, held or not.
	work := len(p.flights) > 0 || (len(p.queue) > 0 && !p.c.pauses.holds(p))
	if work && now.Sub(p.lastDone) > limit {
		return fmt.Errorf("partition %s made no progress for %s", p.key, now.Sub(p.lastDone).Round(time.Second))
	}
	return nil
}

// idle reports whether p has no batch in flight. Once p is held (a data
// pause) and idle it applies nothing more until released: its mark is
// final.
func (p *partition) idle() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.flights) == 0
}

// run takes and decodes batches until the partition stops or its context
// ends, then waits until every flight has finished or been abandoned.
func (p *partition) run() {
	defer close(p.done)
	defer p.cancel()
	for {
		f := p.nextBatch()
		if f == nil {
			break
		}
		if err := p.process(f); err != nil {
			break // ctx ended: the flights are abandoned unmarked
		}
	}
	p.mu.Lock()
	for len(p.flights) > 0 {
		p.mu.Unlock()
		<-p.wake // finishFlights signals
		p.mu.Lock()
	}
	p.mu.Unlock()
}

// nextBatch waits until a batch is ready and a flight is free: fewer than
// batch.max_inflight_per_partition batches in flight, and
// batch.max_records or batch.max_bytes reached, or batch.linger passed
// since the first record arrived. It returns nil when the partition stops
// (whatever is queued is left unprocessed) or its context ends.
func (p *partition) nextBatch() *flight {
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
		if p.stopping || p.ctx.Err() != nil {
			p.mu.Unlock()
			return nil
		}
		if p.stoppedErr != nil || p.c.pauses.holds(p) || p.fullLocked() {
			// A stopped partition waits for revoke, loss or shutdown; a
			// held one for its release (datapause.go); a full one for a
			// flight to finish.
			p.mu.Unlock()
			select {
			case <-p.wake:
				continue
			case <-p.ctx.Done():
				return nil
			}
		}
		n := len(p.queue)
		ready := n >= b.MaxRecords || p.queuedBytes >= int64(b.MaxBytes) || (n > 0 && b.Linger <= 0)
		if n > 0 && !ready && lingerC == nil {
			timer = time.NewTimer(b.Linger)
			lingerC = timer.C
		}
		if ready {
			f := p.takeLocked(b.MaxRecords, int64(b.MaxBytes))
			p.mu.Unlock()
			return f
		}
		p.mu.Unlock()
		select {
		case <-p.wake:
		case <-lingerC:
			p.mu.Lock()
			if p.stopping || len(p.queue) == 0 || p.c.pauses.holds(p) || p.fullLocked() {
				p.mu.Unlock()
				lingerC = nil
				continue
			}
			f := p.takeLocked(b.MaxRecords, int64(b.MaxBytes))
			p.mu.Unlock()
			return f
		case <-p.ctx.Done():
			return nil
		}
	}
}

// fullLocked reports whether p may take no further flight: it has
// batch.max_inflight_per_partition, or its flights hold half its share of
// batch.max_inflight_bytes (flightShare; its first flight aside), so that
// a partition whose flights cannot finish leaves the other partitions
// room to fetch. Called with mu held.
func (p *partition) fullLocked() bool {
	n := len(p.flights)
	return n >= p.maxFlights || (n > 0 && p.flightBytes >= p.c.flightShare())
}

// takeLocked removes up to maxRecords / maxBytes (at least one record)
// from the queue into a new flight, takes its range in the member's
// tracker and appends it to the flights. Called with mu held.
func (p *partition) takeLocked(maxRecords int, maxBytes int64) *flight {
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
	f := p.newFlightLocked()
	f.records = append(f.records[:0], p.queue[:n]...)
	clear(p.queue[:n])
	p.queue, p.sizes = p.queue[n:], p.sizes[n:]
	if len(p.queue) == 0 {
		p.queue, p.sizes = nil, nil // let the backing arrays go
	}
	p.queuedBytes -= bytes
	f.bytes = bytes + int64(n)*fetchedOverhead
	f.start = time.Now()
	f.pending = 1
	first, last := f.records[0], f.records[n-1]
	f.end = kgo.EpochOffset{Epoch: last.LeaderEpoch, Offset: last.Offset + 1}
	f.work = p.c.gm.Take(p.key.topic, p.key.partition, kgo.EpochOffset{Epoch: first.LeaderEpoch, Offset: first.Offset}, f.end)
	p.takenEnd = f.end
	p.flights = append(p.flights, f)
	p.flightBytes += f.bytes
	return f
}

func (p *partition) newFlightLocked() *flight {
	if n := len(p.freeFlights); n > 0 {
		f := p.freeFlights[n-1]
		p.freeFlights = p.freeFlights[:n-1]
		return f
	}
	return &flight{}
}

// process decodes, routes and checks the records of f and launches their
// writes; the last of them to end (or process itself) finishes the
// flights that can finish. It returns an error only when the partition's
// ctx ended (the flight is then abandoned, unmarked).
//
// Decoded records can hold many times their Kafka bytes, so the partition
// holds at most its share of batch.max_decoded_bytes decoded (decodedShare,
// plus the one record that crosses it): past it, what f holds is launched
// as a piece, and the next record waits until a write in flight ends.
func (p *partition) process(f *flight) error {
	c := p.c
	ctx := p.ctx
	if cap(f.recs) < len(f.records) {
		f.recs = make([]schemas.Record, len(f.records))
	}
	f.recs = f.recs[:len(f.records)]
	share := c.decodedShare()
	pc := p.newPiece(f, 0)
	err := func() error {
		for i, r := range f.records {
			rec, err := p.decode(r)
			if err != nil {
				if ctx.Err() != nil {
					return ctx.Err()
				}
				p.fail(f, r, err)
				continue
			}
			if pc, err = p.reserve(pc, i, int64(rec.MemBytes), share); err != nil {
				return err
			}
			f.recs[i] = rec
			coll, err := c.decoders.router.collection(r.Topic, rec.Collection)
			if err == nil {
				err = c.cfg.Sink.Check(ctx, coll, &f.recs[i])
			}
			if err != nil {
				if ctx.Err() != nil {
					return ctx.Err()
				}
				p.fail(f, r, err)
				continue
			}
			pc.add(coll, sink.Op{Record: &f.recs[i], Offset: r.Offset, Partition: r.Partition, Ref: i})
		}
		pc.to = len(f.records)
		return p.launch(pc)
	}()
	if err != nil {
		p.dropPiece(pc)
	}
	p.mu.Lock()
	if err != nil && f.err == nil {
		f.err = err
	}
	f.pending--
	ready := f.pending == 0
	p.mu.Unlock()
	if ready {
		p.finishFlights()
	}
	return err
}

// reserve makes room for a record of n decoded bytes at index i of pc's
// flight: while the partition would hold more than share, it launches pc
// (continuing in a new piece from i) or, with nothing of its own to
// launch, waits until a write in flight ends. It returns the piece to add
// the record to.
func (p *partition) reserve(pc *piece, i int, n, share int64) (*piece, error) {
	for {
		p.mu.Lock()
		if p.held == 0 || p.held+n <= share {
			p.held += n
			p.mu.Unlock()
			pc.held += n
			p.c.addDecoded(n)
			return pc, nil
		}
		p.mu.Unlock()
		if pc.held > 0 {
			pc.to = i
			if err := p.launch(pc); err != nil {
				return pc, err
			}
			pc = p.newPiece(pc.f, i)
			continue
		}
		if err := p.await(); err != nil {
			return pc, err
		}
	}
}

// await waits until something changes (a write ends, a flight finishes,
// records arrive, a stop) or the partition's context ends.
func (p *partition) await() error {
	select {
	case <-p.wake:
		return nil
	case <-p.ctx.Done():
		return p.ctx.Err()
	}
}

func (p *partition) newPiece(f *flight, from int) *piece {
	p.mu.Lock()
	var pc *piece
	if n := len(p.freePieces); n > 0 {
		pc = p.freePieces[n-1]
		p.freePieces = p.freePieces[:n-1]
	} else {
		pc = &piece{ops: make(map[string][]sink.Op)}
	}
	p.mu.Unlock()
	pc.f, pc.from, pc.to = f, from, from
	return pc
}

func (pc *piece) add(coll string, op sink.Op) {
	ops := pc.ops[coll]
	if len(ops) == 0 {
		pc.colls = append(pc.colls, coll)
	}
	pc.ops[coll] = append(ops, op)
	pc.hashes = append(pc.hashes, schemas.IDKeyOf(op.Record.ID).Hash())
}

// launch starts writing pc once no write in flight holds one of its point
// ids (conflicts), so that writes in flight at once commute; a piece
// without ops only lets its records go.
func (p *partition) launch(pc *piece) error {
	if len(pc.colls) == 0 {
		p.dropPiece(pc)
		return nil
	}
	p.mu.Lock()
	for p.conflictsLocked(pc) {
		p.mu.Unlock()
		if err := p.await(); err != nil {
			return err
		}
		p.mu.Lock()
	}
	for _, h := range pc.hashes {
		p.idKeys[h]++
	}
	p.writes++
	pc.f.pending++
	p.mu.Unlock()
	go p.write(pc)
	return nil
}

// conflictsLocked reports whether a write in flight holds one of pc's
// point ids. Called with mu held.
func (p *partition) conflictsLocked(pc *piece) bool {
	if p.writes == 0 {
		return false
	}
	for _, h := range pc.hashes {
		if p.idKeys[h] > 0 {
			return true
		}
	}
	return false
}

// write applies pc, collection by collection, notes the records Qdrant
// rejected and releases pc.
func (p *partition) write(pc *piece) {
	f := pc.f
	var werr error
	for _, coll := range pc.colls {
		rejected, err := p.c.cfg.Sink.Write(p.ctx, coll, pc.ops[coll])
		if err != nil {
			werr = err
			break
		}
		for _, rj := range rejected {
			p.fail(f, f.records[rj.Op.Ref], rj.Err)
		}
	}
	p.release(pc, true, werr)
}

// dropPiece releases a piece that was never launched.
func (p *partition) dropPiece(pc *piece) { p.release(pc, false, nil) }

// release lets go of pc's records (drops the references to their
// protobufs, releases their decoded bytes) and keeps pc for reuse. For a
// launched piece it also ends the write: its point ids are free again, and
// when it was the flight's last, the flights that can finish are finished.
// The records are let go before the flight can finish: a finished flight
// is reused.
func (p *partition) release(pc *piece, launched bool, err error) {
	f := pc.f
	clear(f.recs[pc.from:pc.to])
	for _, coll := range pc.colls {
		ops := pc.ops[coll]
		clear(ops)
		pc.ops[coll] = ops[:0]
	}
	n := pc.held
	p.mu.Lock()
	ready := false
	if launched {
		for _, h := range pc.hashes {
			if p.idKeys[h]--; p.idKeys[h] <= 0 {
				delete(p.idKeys, h)
			}
		}
		p.writes--
		if err != nil && f.err == nil {
			f.err = err
		}
		f.pending--
		ready = f.pending == 0
	}
	p.held -= n
	pc.colls, pc.hashes, pc.held, pc.f = pc.colls[:0], pc.hashes[:0], 0, nil
	p.freePieces = append(p.freePieces, pc)
	p.mu.Unlock()
	p.c.addDecoded(-n)
	if launched {
		p.signal()
		if ready {
			p.finishFlights()
		}
	}
}

func (p *partition) fail(f *flight, r *kgo.Record, err error) {
	re, ok := schemas.AsRecordError(err)
	if !ok {
		re = &schemas.RecordError{Class: schemas.ClassValidate, Stage: schemas.StageValidate, Err: err}
	}
	p.mu.Lock()
	f.failed = append(f.failed, failedRecord{rec: r, err: re})
	p.mu.Unlock()
}

// finishFlights finishes the flights at the head that are written, in
// offset order: their bad records go to the DLQ (or stop the partition),
// then their range is marked. One goroutine at a time does it; a call
// while another finishes returns at once, and that one sees the flights
// that became ready meanwhile.
func (p *partition) finishFlights() {
	p.mu.Lock()
	if p.finishing {
		p.mu.Unlock()
		return
	}
	p.finishing = true
	for len(p.flights) > 0 && p.flights[0].pending == 0 {
		f := p.flights[0]
		p.mu.Unlock()
		p.finish(f)
		p.c.addInflight(-f.bytes)
		p.mu.Lock()
		p.flights[0] = nil
		p.flights = p.flights[1:]
		p.flightBytes -= f.bytes
		if len(p.flights) == 0 {
			p.flights = nil
		}
		rewind := p.afterFlightLocked()
		// Nothing of the batch stays referenced: its records keep their
		// fetch's decompressed buffer alive.
		clear(f.records)
		clear(f.failed)
		f.records, f.recs, f.failed, f.work, f.err = f.records[:0], f.recs[:0], f.failed[:0], nil, nil
		p.freeFlights = append(p.freeFlights, f)
		if rewind {
			p.mu.Unlock()
			p.c.requestRewind(p)
			p.mu.Lock()
		}
	}
	p.finishing = false
	p.mu.Unlock()
	p.signal()
}

// finish dead-letters f's bad records and marks f, unless f or a flight
// before it was abandoned, or the partition stopped: then f is not marked.
// Without a DLQ a bad record stops the partition (stopOnBadRecord).
func (p *partition) finish(f *flight) {
	p.mu.Lock()
	skip := f.err != nil || p.abandoned || p.stoppedErr != nil
	if f.err != nil {
		p.abandoned = true
	}
	failed := f.failed
	p.mu.Unlock()
	if skip {
		return
	}
	if len(failed) > 0 {
		if p.c.cfg.Kafka.DLQTopic == "" {
			p.stopOnBadRecord(f, failed)
			return
		}
		if err := p.c.deadLetter(p.ctx, failed); err != nil {
			p.mu.Lock()
			p.abandoned = true
			p.mu.Unlock()
			return
		}
	}
	p.markDone(f.work, f.end)
}

// afterFlightLocked ends a stall once the last flight finished: fetching
// resumes from the end of the last batch taken, after the poll loop
// rewound it (it reports whether to ask for that), or at once when the
// partition is stopped or its flights were abandoned. Called with mu held.
func (p *partition) afterFlightLocked() (rewind bool) {
	if !p.stallPaused || len(p.flights) > 0 {
		return false
	}
	p.stallPaused = false
	if !p.abandoned && p.dropping && p.stoppedErr == nil {
		p.rewindPending = true
		return true
	}
	p.c.pauser.set(p.key, reasonStalled, false)
	return false
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

func (p *partition) markDone(w *groupmember.Work, eo kgo.EpochOffset) {
	w.DoneUpTo(eo)
	now := time.Now()
	p.mu.Lock()
	p.lastDone = now
	p.next, p.nextKnown = eo.Offset, true
	p.observeHWMLocked(p.hwm)
	p.mu.Unlock()
}

// stopOnBadRecord handles bad input without a DLQ: everything before the
// first bad record of f is marked (the flights before f are marked
// already; the ones after it never are), the partition stops (fetching
// paused, its queue let go) and stays stopped until it is revoked or the
// process restarts. The bad record is never skipped.
func (p *partition) stopOnBadRecord(f *flight, failed []failedRecord) {
	first := slices.MinFunc(failed, func(a, b failedRecord) int { return int(a.rec.Offset - b.rec.Offset) })
	if first.rec != f.records[0] {
		var prev *kgo.Record
		for _, r := range f.records {
			if r.Offset >= first.rec.Offset {
				break
			}
			prev = r
		}
		if prev != nil {
			p.markDone(f.work, kgo.EpochOffset{Epoch: prev.LeaderEpoch, Offset: prev.Offset + 1})
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
}
