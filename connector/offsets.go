package connector

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// tracker holds, per owned partition, the offset below which every record
// was applied to Qdrant or acknowledged by the DLQ (the "mark"), and what
// was last committed. A partition that is not owned (revoked or lost)
// accepts no marks: after its revoke returned nothing is ever committed
// for it by this member.
type tracker struct {
	mu    sync.Mutex
	parts map[tp]*trackState
}

type trackState struct {
	owned     bool
	mark      kgo.EpochOffset
	marked    bool
	committed int64
}

func newTracker() *tracker { return &tracker{parts: make(map[tp]*trackState)} }

func (t *tracker) assign(key tp) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.parts[key] = &trackState{owned: true, committed: -1}
}

// mark records that everything below eo.Offset is done. Marks only move
// forward and are ignored for partitions no longer owned.
func (t *tracker) mark(key tp, eo kgo.EpochOffset) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	s := t.parts[key]
	if s == nil || !s.owned {
		return false
	}
	if !s.marked || eo.Offset > s.mark.Offset {
		s.mark, s.marked = eo, true
	}
	return true
}

// drop forgets a lost partition without committing.
func (t *tracker) drop(key tp) {
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.parts, key)
}

// pending returns the marks not yet committed, for the given partitions
// (all owned ones when keys is nil). With disown, those partitions stop
// accepting marks and are forgotten (the revoke path).
func (t *tracker) pending(keys []tp, disown bool) map[string]map[int32]kgo.EpochOffset {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := make(map[string]map[int32]kgo.EpochOffset)
	add := func(key tp, s *trackState) {
		if s.owned && s.marked && s.mark.Offset > s.committed {
			if out[key.topic] == nil {
				out[key.topic] = make(map[int32]kgo.EpochOffset)
			}
			out[key.topic][key.partition] = s.mark
		}
	}
	if keys == nil {
		for key, s := range t.parts {
			add(key, s)
		}
		return out
	}
	for _, key := range keys {
		if s := t.parts[key]; s != nil {
			add(key, s)
			if disown {
				s.owned = false
				delete(t.parts, key)
			}
		}
	}
	return out
}

func (t *tracker) committed(offs map[string]map[int32]kgo.EpochOffset) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for topic, ps := range offs {
		for p, eo := range ps {
			if s := t.parts[tp{topic, p}]; s != nil && eo.Offset > s.committed {
				s.committed = eo.Offset
			}
		}
	}
}

var errKilled = errors.New("connector killed; not committing")

// commitLoop commits marks every kafka.commit_interval until ctx ends.
func (c *Connector) commitLoop(ctx context.Context) {
	interval := c.cfg.Kafka.CommitInterval
	if interval <= 0 {
		interval = time.Second
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		cctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		if err := c.commitPending(cctx); err != nil && ctx.Err() == nil {
			c.log.Warn("committing offsets; will retry at the next interval", "err", err)
		}
		cancel()
	}
}

func (c *Connector) commitPending(ctx context.Context) error {
	c.commitMu.Lock()
	defer c.commitMu.Unlock()
	offs := c.tracker.pending(nil, false)
	if len(offs) == 0 {
		return nil
	}
	if err := c.commit(ctx, offs); err != nil {
		return err
	}
	c.tracker.committed(offs)
	return nil
}

// commitRevoked commits the final marks of revoked partitions and disowns
// them, atomically with respect to periodic commits.
func (c *Connector) commitRevoked(ctx context.Context, keys []tp) error {
	c.commitMu.Lock()
	defer c.commitMu.Unlock()
	offs := c.tracker.pending(keys, true)
	if len(offs) == 0 {
		return nil
	}
	return c.commit(ctx, offs)
}

func (c *Connector) commit(ctx context.Context, offs map[string]map[int32]kgo.EpochOffset) error {
	if c.killed.Load() {
		return errKilled
	}
	if h := c.testHooks.beforeCommit; h != nil {
		h(offs)
	}
	var rerr error
	ctx = c.pauses.commitContext(ctx)
	c.cl.CommitOffsetsSync(ctx, offs, func(_ *kgo.Client, _ *kmsg.OffsetCommitRequest, resp *kmsg.OffsetCommitResponse, err error) {
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
		c.m.commits.WithLabelValues("error").Inc()
		return fmt.Errorf("committing offsets: %w", rerr)
	}
	c.m.commits.WithLabelValues("ok").Inc()
	return nil
}
