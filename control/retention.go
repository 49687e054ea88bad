package control

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/seed-a550a1ef/kafka-qdrant/control/statusview"
	"github.com/seed-a550a1ef/kafka-qdrant/schemas"
)

// sweepLoop bounds the status topic while ep lasts: at once, then every
// SweepInterval, it tombstones the commands that ended more than
// StatusRetention ago (see retire). Compaction then removes their events
// and, after the topic's delete.retention.ms, the tombstones.
func (r *Runner) sweepLoop(ep *epoch) {
	if r.cfg.StatusRetention <= 0 {
		return
	}
	for {
		r.sweep(ep)
		select {
		case <-ep.ended:
			return
		case <-time.After(r.cfg.SweepInterval):
		}
	}
}

func (r *Runner) sweep(ep *epoch) {
	ids := retire(r.follower.View(), r.cfg.Clock.Now().Add(-r.cfg.StatusRetention))
	if len(ids) == 0 {
		return
	}
	// A command whose control record the control group has not committed
	// past is read again by the next owner: its final status must stay,
	// or it would run again. (The commit point stays behind a long
	// command, or while commits fail.)
	ctx, cancel := context.WithTimeout(context.Background(), 4*r.callTimeout)
	uncommitted, err := r.uncommittedIDs(ctx)
	cancel()
	if err != nil {
		r.log.Warn("retention sweep skipped: reading the control records not yet committed", "err", err)
		return
	}
	ids = slices.DeleteFunc(ids, func(id string) bool { return uncommitted[id] })
	if len(ids) == 0 {
		return
	}
	pub := r.publisherOf(ep)
	if pub == nil {
		return
	}
	start := time.Now()
	done := 0
	// In chunks of one transaction, so the dispatcher's events go out
	// between them.
	for lo := 0; lo < len(ids); lo += maxTxnRecords {
		acks := make([]chan error, 0, maxTxnRecords)
		for _, id := range ids[lo:min(len(ids), lo+maxTxnRecords)] {
			it := &pubItem{key: id, ack: make(chan error, 1)}
			if err := pub.enqueue(it); err != nil {
				break
			}
			acks = append(acks, it.ack)
		}
		for _, ack := range acks {
			select {
			case err := <-ack:
				if err == nil {
					done++
				}
			case <-ep.ended:
				r.m.tombstones.Add(float64(done))
				return
			}
		}
	}
	r.m.tombstones.Add(float64(done))
	r.log.Info("tombstoned finished commands older than control.status_retention", "count", done, "of", len(ids),
		"retention", r.cfg.StatusRetention, "took", time.Since(start).Round(time.Millisecond))
}

// retire returns the commands whose final event is older than cutoff,
// except the newest succeeded index_defer of each collection as long as
// no succeeded index_build of that collection came after it: index_build
// restores what it recorded, however long the bulk load took.
func retire(v *statusview.View, cutoff time.Time) []string {
	lastDefer := map[string]statusview.Entry{}
	lastBuild := map[string]statusview.Position{}
	v.Each(func(e statusview.Entry) {
		s := e.Latest
		if s.State != schemas.StateSucceeded {
			return
		}
		switch s.Type {
		case schemas.CommandIndexDefer:
			if d, ok := lastDefer[s.Collection]; !ok || e.At.After(d.At) {
				lastDefer[s.Collection] = e
			}
		case schemas.CommandIndexBuild:
			if b, ok := lastBuild[s.Collection]; !ok || e.At.After(b) {
				lastBuild[s.Collection] = e.At
			}
		}
	})
	keep := map[string]bool{}
	for c, d := range lastDefer {
		if b, ok := lastBuild[c]; !ok || !b.After(d.At) {
			keep[d.Latest.CommandID] = true
		}
	}
	var ids []string
	v.Each(func(e statusview.Entry) {
		if s := e.Latest; s.State.Final() && s.Time.Before(cutoff) && !keep[s.CommandID] {
			ids = append(ids, s.CommandID)
		}
	})
	return ids
}

// uncommittedIDs returns the command ids of the control records at or
// above the control group's committed offsets: the records a new owner
// reads again. Besides each record's own id it includes the id its
// failed status would be published under when it is malformed or
// unauthorized (schemas.InvalidCommandID).
func (r *Runner) uncommittedIDs(ctx context.Context) (map[string]bool, error) {
	cl := r.client()
	if cl == nil {
		return nil, errors.New("no control group session")
	}
	topic := r.cfg.Config.Control.Topic
	adm := kadm.NewClient(cl)
	ends, err := adm.ListEndOffsets(ctx, topic)
	if err == nil {
		err = ends.Error()
	}
	if err != nil {
		return nil, fmt.Errorf("listing the end offsets of %s: %w", topic, err)
	}
	committed, err := adm.FetchOffsets(ctx, Group(r.cfg.Config.Kafka.Group))
	if err != nil && !errors.Is(err, kerr.GroupIDNotFound) {
		return nil, fmt.Errorf("fetching the control group's offsets: %w", err)
	}
	from := map[int32]kgo.Offset{}
	left := map[int32]int64{} // partition -> end offset still to reach
	ends.Each(func(o kadm.ListedOffset) {
		start := int64(0)
		if c, ok := committed.Lookup(topic, o.Partition); ok && c.At >= 0 {
			start = c.At
		}
		if start < o.Offset {
			from[o.Partition] = kgo.NewOffset().At(start)
			left[o.Partition] = o.Offset
		}
	})
	ids := map[string]bool{}
	if len(from) == 0 {
		return ids, nil
	}
	rd, err := kgo.NewClient(append(slices.Clone(r.cfg.KafkaOpts),
		kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{topic: from}))...)
	if err != nil {
		return nil, err
	}
	defer rd.Close()
	for len(left) > 0 {
		fs := rd.PollFetches(ctx)
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("reading %s: %w", topic, err)
		}
		if err := fs.Err0(); err != nil {
			return nil, fmt.Errorf("reading %s: %w", topic, err)
		}
		fs.EachRecord(func(rec *kgo.Record) {
			if cmd, _ := schemas.DecodeCommand(rec.Key, rec.Value); cmd.ID != "" {
				ids[cmd.ID] = true
			}
			ids[schemas.InvalidCommandID(rec.Partition, rec.Offset, rec.Key, rec.Value)] = true
			if end, ok := left[rec.Partition]; ok && rec.Offset+1 >= end {
				delete(left, rec.Partition)
			}
		})
	}
	return ids, nil
}
