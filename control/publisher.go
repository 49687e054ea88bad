package control

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/seed-a550a1ef/kafka-qdrant/control/job"
)

// errPublisherClosed is returned for events of an ownership epoch that
// ended: nothing more may be published for it.
var errPublisherClosed = fmt.Errorf("%w: the ownership epoch ended", job.ErrNotOwner)

// Batch bounds of one transaction.
const (
	maxTxnRecords = 500
	maxTxnBytes   = 4 << 20
)

// publisher writes the status events of one ownership epoch through a
// transactional producer whose transactional id is the same on every
// replica ("<kafka.group>.control"). Creating it initializes the producer
// id, which bumps the epoch of that transactional id at the coordinator:
// every write of a former owner is rejected from then on (fenced), and its
// open transaction is aborted.
//
// One goroutine runs the transactions: it takes what is queued (in order),
// writes it in one transaction and acknowledges each item once Kafka
// committed it. Synchronous items (accepted, finals, checkpoints,
// tombstones) wait for that; progress items are asynchronous slots, one
// per command, whose value is built when the transaction is written, so a
// newer progress replaces an unpublished one (coalescing).
//
// A failure that leaves the transaction's outcome unknown (or any fencing
// error) makes the publisher fatal: onFatal is called once and every
// later item fails with an error wrapping job.ErrNotOwner. Re-initializing
// the producer to recover is what fences, so only a replica that is sure
// it owns the partition may do it: the runner starts a new group session.
type publisher struct {
	cl          *kgo.Client
	topic       string
	log         *slog.Logger
	callTimeout time.Duration
	onFatal     func(error)

	mu     sync.Mutex
	queue  []*pubItem
	slots  map[string]*pubItem // queued progress slots by key
	wake   chan struct{}
	closed bool
	fatal  error
	done   chan struct{}
}

// pubItem is one queued status record.
type pubItem struct {
	key   string
	value []byte                // nil: a tombstone (unless build is set)
	build func() ([]byte, bool) // progress slot: the value at write time; false drops it
	ack   chan error            // buffered; nil for slots
}

// newPublisher creates the epoch's transactional producer and initializes
// its producer id (fencing any former owner) within ctx.
func newPublisher(ctx context.Context, base []kgo.Opt, txnID, topic string, callTimeout time.Duration, log *slog.Logger, onFatal func(error)) (*publisher, error) {
	opts := append(slices.Clone(base),
		kgo.TransactionalID(txnID),
		kgo.TransactionTimeout(3*callTimeout),
		kgo.RecordDeliveryTimeout(callTimeout),
		kgo.DefaultProduceTopic(topic),
		kgo.ProducerLinger(0),
	)
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		return nil, fmt.Errorf("creating the status producer: %w", err)
	}
	if _, _, err := cl.ProducerID(ctx); err != nil {
		cl.Close()
		return nil, fmt.Errorf("initializing the transactional producer %q: %w", txnID, err)
	}
	p := &publisher{
		cl: cl, topic: topic, log: log, callTimeout: callTimeout, onFatal: onFatal,
		slots: map[string]*pubItem{}, wake: make(chan struct{}, 1), done: make(chan struct{}),
	}
	go p.loop()
	return p, nil
}

// publish writes value under key (nil value: a tombstone) and waits until
// Kafka committed it or ctx ends. When ctx ends first the item is taken
// back if it is still queued; otherwise it may still be committed.
func (p *publisher) publish(ctx context.Context, key string, value []byte) error {
	it := &pubItem{key: key, value: value, ack: make(chan error, 1)}
	if err := p.enqueue(it); err != nil {
		return err
	}
	select {
	case err := <-it.ack:
		return err
	case <-ctx.Done():
		if p.withdraw(it) {
			return context.Cause(ctx)
		}
		// In flight: its outcome decides.
		select {
		case err := <-it.ack:
			return err
		case <-time.After(p.callTimeout):
			return fmt.Errorf("status of %s: outcome unknown after %s: %w", key, p.callTimeout, context.Cause(ctx))
		}
	}
}

// progress queues a progress slot for key unless one is queued already.
func (p *publisher) progress(key string, build func() ([]byte, bool)) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed || p.fatal != nil || p.slots[key] != nil {
		return
	}
	it := &pubItem{key: key, build: build}
	p.slots[key] = it
	p.queue = append(p.queue, it)
	p.signal()
}

// drop removes the queued progress slot of key, if any.
func (p *publisher) drop(key string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if it := p.slots[key]; it != nil {
		delete(p.slots, key)
		p.removeLocked(it)
	}
}

func (p *publisher) enqueue(it *pubItem) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if err := p.errLocked(); err != nil {
		return err
	}
	p.queue = append(p.queue, it)
	p.signal()
	return nil
}

// withdraw removes it from the queue; false when it was taken already.
func (p *publisher) withdraw(it *pubItem) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.removeLocked(it)
}

func (p *publisher) removeLocked(it *pubItem) bool {
	for i, x := range p.queue {
		if x == it {
			p.queue = slices.Delete(p.queue, i, i+1)
			return true
		}
	}
	return false
}

func (p *publisher) signal() {
	select {
	case p.wake <- struct{}{}:
	default:
	}
}

// err is the publisher's fatal error, or errPublisherClosed, or nil.
func (p *publisher) err() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.errLocked()
}

// errLocked is err with p.mu held.
func (p *publisher) errLocked() error {
	if p.fatal != nil {
		return p.fatal
	}
	if p.closed {
		return errPublisherClosed
	}
	return nil
}

// close stops accepting items, fails the queued ones, waits for the
// transaction in flight (bounded by the call timeout) and closes the
// producer.
func (p *publisher) close() {
	p.mu.Lock()
	if !p.closed {
		p.closed = true
		p.failQueuedLocked(errPublisherClosed)
		p.signal()
	}
	p.mu.Unlock()
	<-p.done
	p.cl.Close()
}

func (p *publisher) failQueuedLocked(err error) {
	for _, it := range p.queue {
		if it.ack != nil {
			it.ack <- err
		}
	}
	p.queue = nil
	clear(p.slots)
}

func (p *publisher) loop() {
	defer close(p.done)
	for range p.wake {
		for {
			batch, stop := p.take()
			if stop {
				return
			}
			if len(batch) == 0 {
				break
			}
			p.write(batch)
		}
	}
}

// take removes the next batch from the queue, building progress slots.
func (p *publisher) take() (batch []*pubItem, stop bool) {
	p.mu.Lock()
	if p.closed || p.fatal != nil {
		p.mu.Unlock()
		return nil, true
	}
	n, size := 0, 0
	for n < len(p.queue) && n < maxTxnRecords && size < maxTxnBytes {
		size += len(p.queue[n].value) + len(p.queue[n].key)
		n++
	}
	taken := slices.Clone(p.queue[:n])
	p.queue = slices.Delete(p.queue, 0, n)
	for _, it := range taken {
		if it.build != nil {
			delete(p.slots, it.key)
		}
	}
	p.mu.Unlock()
	for _, it := range taken {
		if it.build != nil {
			v, ok := it.build()
			if !ok {
				continue
			}
			it.value = v
		}
		batch = append(batch, it)
	}
	return batch, false
}

// write commits batch in one transaction and acknowledges its items.
func (p *publisher) write(batch []*pubItem) {
	err := p.transact(batch)
	var fe *fatalError
	if errors.As(err, &fe) {
		p.mu.Lock()
		p.fatal = fmt.Errorf("%w: status producer unusable: %w", job.ErrNotOwner, fe.err)
		p.failQueuedLocked(p.fatal)
		p.mu.Unlock()
		err = p.fatal
		p.log.Warn("status producer fenced or in an unknown transaction state; this ownership epoch ends", "err", fe.err)
		p.onFatal(p.fatal)
	}
	for _, it := range batch {
		if it.ack != nil {
			it.ack <- err
		}
	}
}

// fatalError marks a failure after which the producer must not be used.
type fatalError struct{ err error }

func (e *fatalError) Error() string { return e.err.Error() }

// transact writes batch in one transaction. A transient failure whose
// abort is confirmed is returned as is; anything else is a *fatalError.
func (p *publisher) transact(batch []*pubItem) error {
	ctx, cancel := context.WithTimeout(context.Background(), p.callTimeout)
	defer cancel()
	if err := p.cl.BeginTransaction(); err != nil {
		return &fatalError{fmt.Errorf("beginning a transaction: %w", err)}
	}
	var mu sync.Mutex
	var produceErr error
	for _, it := range batch {
		rec := &kgo.Record{Topic: p.topic, Key: []byte(it.key), Value: it.value}
		p.cl.Produce(ctx, rec, func(_ *kgo.Record, err error) {
			if err != nil {
				mu.Lock()
				produceErr = cmpErr(produceErr, err)
				mu.Unlock()
			}
		})
	}
	flushErr := p.cl.Flush(ctx)
	mu.Lock()
	perr := cmpErr(produceErr, flushErr)
	mu.Unlock()
	if perr != nil {
		if fencing(perr) {
			return &fatalError{perr}
		}
		actx, acancel := context.WithTimeout(context.Background(), p.callTimeout)
		defer acancel()
		if err := p.cl.AbortBufferedRecords(actx); err != nil {
			return &fatalError{fmt.Errorf("aborting after %v: %w", perr, err)}
		}
		if err := p.cl.EndTransaction(actx, kgo.TryAbort); err != nil {
			return &fatalError{fmt.Errorf("aborting after %v: %w", perr, err)}
		}
		return fmt.Errorf("writing %d status events: %w", len(batch), perr)
	}
	if err := p.cl.EndTransaction(ctx, kgo.TryCommit); err != nil {
		// Refused or unconfirmed: recovering re-initializes the producer,
		// which only a replica sure of its ownership may do.
		return &fatalError{fmt.Errorf("committing %d status events: %w", len(batch), err)}
	}
	return nil
}

func cmpErr(old, err error) error {
	if old != nil {
		return old
	}
	return err
}

// fencing reports errors saying another producer took the transactional
// id over (or this one may not use it).
func fencing(err error) bool {
	return errors.Is(err, kerr.ProducerFenced) || errors.Is(err, kerr.InvalidProducerEpoch) ||
		errors.Is(err, kerr.InvalidProducerIDMapping) || errors.Is(err, kerr.TransactionalIDAuthorizationFailed) ||
		errors.Is(err, kerr.InvalidTxnState)
}
