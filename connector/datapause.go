package connector

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/seed-a550a1ef/kafka-qdrant/schemas"
)

// PauseSource tells the connector which data pauses are in force: the
// control plane's view of the status topic (control.Runner) implements
// it. A restore switching an alias publishes one (schemas.DataPause).
type PauseSource interface {
	// DataPauses returns the pauses in force at now.
	DataPauses(now time.Time) []schemas.DataPause
	// SyncStatus returns once every pause published before the call is
	// known to DataPauses, or fails.
	SyncStatus(ctx context.Context) error
}

// Data pause timing: how often the pauses in force are read, and how long
// one catch-up with the status topic may take before it is tried again.
const (
	pauseStep        = 50 * time.Millisecond
	pauseSyncTimeout = 10 * time.Second
)

// dataPauses holds partitions for the data pauses in force (see
// schemas.DataPause), on every replica:
//
//	pause published ─▶ step: the partitions of its topics are held
//	  (nextBatch takes no batch; fetching paused) ─▶ the batch in flight
//	  ends (idle) ─▶ ack: commit the partition's applied offset with
//	  metadata naming the pauses ─▶ … pause lifted or lapsed ─▶ released
//
// A partition newly assigned is held until the status view caught up with
// everything published before (SyncStatus), so a replica that takes a
// partition over during a pause never applies a record the pause forbids.
// Every commit of a partition held and idle carries the metadata
// (preCommit, the member's PreCommit); a released partition's commits
// carry none.
//
// Locks: holds runs under partition.mu and reads state atomically; step
// replaces state before it takes partition.mu to see whether a held
// partition is idle, so a worker that took a batch without seeing the
// hold had a flight when step looked. Nothing holds mu while taking
// partition.mu or Connector.mu.
type dataPauses struct {
	c   *Connector
	src PauseSource

	// state is what holds reads, replaced whole by each step (lock-free
	// on the workers' path).
	state atomic.Pointer[holdState]

	mu sync.Mutex
	// held are the partitions held at the last step, true for those a
	// pause held (not only the wait for the status view).
	held map[*partition]bool
	// drained is the commit metadata of partitions held and idle;
	// acked what was committed with it.
	drained, acked map[tp]string
	// syncFailing is when SyncStatus started failing (zero while it works).
	syncFailing time.Time
}

// newDataPauses returns c's data pauses (nil without a PauseSource: no
// partition is ever held).
func newDataPauses(c *Connector) *dataPauses {
	if c.cfg.Pauses == nil {
		return nil
	}
	d := &dataPauses{
		c: c, src: c.cfg.Pauses,
		held: map[*partition]bool{}, drained: map[tp]string{}, acked: map[tp]string{},
	}
	d.state.Store(&holdState{})
	c.pauser.forgotten = d.forget
	return d
}

// holds reports whether p may not start a batch: its assignment is not
// known to be synced with the status topic yet, or a pause holds its
// topic. Called by the partition's worker with p.mu held.
func (d *dataPauses) holds(p *partition) bool {
	if d == nil {
		return false
	}
	st := d.state.Load()
	return !st.synced[p] || len(st.topics[p.key.topic]) > 0
}

// holdState is what holds the partitions.
type holdState struct {
	// topics are the topics held, each with the ids of its pauses
	// (sorted).
	topics map[string][]string
	// synced are the partitions assigned before a SyncStatus that
	// completed, whose pauses were read since.
	synced map[*partition]bool
}

// run steps until ctx ends.
func (d *dataPauses) run(ctx context.Context) {
	if d == nil {
		return
	}
	t := time.NewTicker(pauseStep)
	defer t.Stop()
	for {
		d.step(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// step reads the pauses in force, holds and releases partitions, and
// acknowledges the pauses of partitions that became idle.
func (d *dataPauses) step(ctx context.Context) {
	c := d.c
	c.mu.Lock()
	parts := make([]*partition, 0, len(c.parts))
	for _, p := range c.parts {
		parts = append(parts, p)
	}
	c.mu.Unlock()

	prev := d.state.Load()
	var fresh []*partition
	for _, p := range parts {
		if !prev.synced[p] {
			fresh = append(fresh, p)
		}
	}
	if len(fresh) > 0 && !d.sync(ctx) {
		fresh = nil
	}
	topics := map[string][]string{}
	now := time.Now()
	for _, dp := range d.src.DataPauses(now) {
		if !now.Before(dp.Until) {
			continue // lapsed, whatever the source says
		}
		for _, t := range dp.Topics {
			topics[t] = append(topics[t], dp.ID)
		}
	}
	for t, ids := range topics {
		slices.Sort(ids)
		topics[t] = slices.Compact(ids)
	}

	type change struct {
		p       *partition
		paused  bool
		release bool
		logged  bool
	}
	var changes []change
	var idleCandidates []*partition
	live := make(map[*partition]bool, len(parts))
	for _, p := range parts {
		live[p] = true
	}
	synced := make(map[*partition]bool, len(parts))
	for p := range prev.synced {
		if live[p] {
			synced[p] = true
		}
	}
	justSynced := make(map[*partition]bool, len(fresh))
	for _, p := range fresh {
		synced[p] = true
		justSynced[p] = true
	}
	d.state.Store(&holdState{topics: topics, synced: synced})

	d.mu.Lock()
	for p := range d.held {
		if !live[p] {
			delete(d.held, p)
		}
	}
	for _, p := range parts {
		ids := topics[p.key.topic]
		paused := len(ids) > 0
		held := paused || !synced[p]
		wasPaused, wasHeld := d.held[p]
		switch {
		case held:
			d.held[p] = paused
			changes = append(changes, change{p: p, paused: paused})
		case wasHeld || justSynced[p]:
			// Released: a pause ended, or the wait for the status view
			// (a worker holding since its assignment wakes up).
			delete(d.held, p)
			delete(d.drained, p.key)
			delete(d.acked, p.key)
			changes = append(changes, change{p: p, release: true, logged: wasPaused})
		default:
			changes = append(changes, change{p: p})
		}
		if paused && synced[p] && d.acked[p.key] != schemas.PauseMetadata(ids) {
			idleCandidates = append(idleCandidates, p)
		}
	}
	d.mu.Unlock()

	for _, ch := range changes {
		// Fetching stops only for a pause (a partition waiting for the
		// status view is held for milliseconds: its fetches queue).
		c.pauser.set(ch.p.key, reasonDataPause, ch.paused)
		if ch.release {
			ch.p.signal()
			if ch.logged {
				c.log.Info("data pause over; partition released", "partition", ch.p.key.String())
			}
		}
	}
	for _, p := range idleCandidates {
		if p.idle() {
			d.ack(ctx, p, topics[p.key.topic])
		}
	}
}

// sync catches the status view up; it reports success.
func (d *dataPauses) sync(ctx context.Context) bool {
	sctx, cancel := context.WithTimeout(ctx, pauseSyncTimeout)
	err := d.src.SyncStatus(sctx)
	cancel()
	if err == nil {
		if !d.syncFailing.IsZero() {
			d.c.log.Info("status topic readable again: newly assigned partitions resume", "held_for", time.Since(d.syncFailing).Round(time.Millisecond))
		}
		d.syncFailing = time.Time{}
		return true
	}
	if ctx.Err() != nil {
		return false
	}
	if d.syncFailing.IsZero() {
		d.syncFailing = time.Now()
		d.c.log.Warn("newly assigned partitions wait until the status topic (data pauses) can be read", "err", err)
	}
	return false
}

// ack commits the offset below which p's records were applied, with
// commit metadata naming the pauses ids: p is held and idle, so nothing
// more of it is applied until it is released. Serialized with the other
// commits, and only while p is still owned (the member's CommitPartition:
// the partition's commit point, or what the group has when this member
// took nothing of it).
func (d *dataPauses) ack(ctx context.Context, p *partition, ids []string) {
	c := d.c
	meta := schemas.PauseMetadata(ids)
	c.mu.Lock()
	owned := c.parts[p.key] == p
	c.mu.Unlock()
	if !owned {
		return
	}
	cctx, cancel := context.WithTimeout(ctx, pauseSyncTimeout)
	defer cancel()
	d.mu.Lock()
	d.drained[p.key] = meta
	d.mu.Unlock()
	at, owned, err := c.gm.CommitPartition(cctx, p.key.topic, p.key.partition,
		func(ctx context.Context) (int64, error) { return d.appliedOffset(ctx, p.key) })
	switch {
	case !owned:
		return
	case err != nil:
		c.log.Warn("data pause: committing the paused partition; trying again", "partition", p.key.String(), "err", err)
		return
	}
	d.mu.Lock()
	if d.drained[p.key] == meta {
		d.acked[p.key] = meta
	}
	d.mu.Unlock()
	c.log.Info("data pause: partition held, its applied offset committed", "partition", p.key.String(),
		"offset", at.Offset, "pauses", ids)
}

// appliedOffset is the offset below which the group applied a partition
// this member applied nothing of (or committed all it applied): the
// group's committed offset, else (nothing ever committed: nothing
// applied, the group starts at the log start) the log start offset.
func (d *dataPauses) appliedOffset(ctx context.Context, key tp) (int64, error) {
	adm := kadm.NewClient(d.c.cl)
	resp, err := adm.FetchOffsets(ctx, d.c.cfg.Kafka.Group)
	if err == nil {
		err = resp.Error()
	}
	if err != nil {
		return 0, fmt.Errorf("fetching the committed offsets: %w", err)
	}
	if o, ok := resp.Lookup(key.topic, key.partition); ok && o.At >= 0 {
		return o.At, nil
	}
	starts, err := adm.ListStartOffsets(ctx, key.topic)
	if err != nil {
		return 0, fmt.Errorf("listing start offsets: %w", err)
	}
	o, ok := starts.Lookup(key.topic, key.partition)
	if !ok || o.Err != nil {
		return 0, fmt.Errorf("no start offset for %s: %v", key, o.Err)
	}
	return o.Offset, nil
}

// preCommit makes every commit (the member's PreCommit) carry the pause
// metadata of the partitions held and idle.
func (d *dataPauses) preCommit(req *kmsg.OffsetCommitRequest) error {
	if d == nil {
		return nil
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	for i := range req.Topics {
		t := &req.Topics[i]
		for j := range t.Partitions {
			if m, ok := d.drained[tp{t.Topic, t.Partitions[j].Partition}]; ok {
				t.Partitions[j].Metadata = &m
			}
		}
	}
	return nil
}

// forget drops what is known of a partition no longer owned.
func (d *dataPauses) forget(key tp) {
	d.mu.Lock()
	defer d.mu.Unlock()
	delete(d.drained, key)
	delete(d.acked, key)
}
