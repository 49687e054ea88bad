package control

import (
	"time"

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
