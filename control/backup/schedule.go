package backup

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/seed-a550a1ef/kafka-qdrant/control/job"
	"github.com/seed-a550a1ef/kafka-qdrant/schemas"
)

// Scheduler sends the scheduled backups: at the start of every slot of
// backup.schedule (slots are multiples of the interval since the zero
// time, so every replica and every restart computes the same ones), a
// backup command for each collection and a prune_backups right after it.
// Their ids are derived from the collection and the slot (SlotCommands):
// a command id runs at most once, so replicas that send the same slot, or
// a restart within a slot, never double a backup. A slot that passed while
// no scheduler ran is not caught up; the next slot backs up.
//
// It also keeps kafka_qdrant_backup_last_success_timestamp_seconds true to
// the store (the newest complete manifest of each collection), so the
// alert on missing backups holds across replicas and restarts.
type Scheduler struct {
	h           *handlers
	interval    time.Duration
	collections []string
	send        func(ctx context.Context, cmd schemas.Command) error
	started     time.Time
}

// NewScheduler returns the scheduler of o.Config.Backup.Schedule for the
// collections of o.Config.BackupCollections(), sending commands with send
// (nil: produce them to control.topic with o.KafkaOpts).
func NewScheduler(o Options, send func(ctx context.Context, cmd schemas.Command) error) (*Scheduler, error) {
	o, err := o.withDefaults()
	if err != nil {
		return nil, err
	}
	d, err := time.ParseDuration(o.Config.Backup.Schedule)
	if err != nil || d <= 0 {
		return nil, fmt.Errorf("backup.schedule: %q is not a positive duration", o.Config.Backup.Schedule)
	}
	sc := &Scheduler{h: &handlers{o: o, m: newMetrics(o.Registerer)}, interval: d, collections: o.Config.BackupCollections(), send: send}
	if len(sc.collections) == 0 {
		return nil, errors.New("backup.schedule: no collection to back up (set backup.collections)")
	}
	return sc, nil
}

// SlotCommands returns the backup and prune commands of collection for the
// slot starting at slot.
func SlotCommands(collection string, slot time.Time) (backup, prune schemas.Command) {
	suffix := schemas.BackupIDFor(collection) + "-" + slot.UTC().Format("20060102T150405Z")
	backup = schemas.Command{ID: "backup-" + suffix, Type: schemas.CommandBackup, Collection: collection}
	prune = schemas.Command{ID: "prune-" + suffix, Type: schemas.CommandPruneBackups, Collection: collection}
	return backup, prune
}

// Run sends each slot's commands until ctx ends. Sending is retried until
// it succeeds or the slot passes.
func (sc *Scheduler) Run(ctx context.Context) error {
	o := sc.h.o
	sc.started = o.Clock.Now()
	sc.h.m.schedule.Set(sc.interval.Seconds())
	send := sc.send
	if send == nil {
		p, err := newProducer(o)
		if err != nil {
			return err
		}
		defer p.Close()
		send = func(ctx context.Context, cmd schemas.Command) error {
			b, err := json.Marshal(cmd)
			if err != nil {
				return err
			}
			return p.ProduceSync(ctx, &kgo.Record{Topic: o.Config.Control.Topic, Key: []byte(cmd.ID), Value: b}).FirstErr()
		}
	}
	for {
		slot := o.Clock.Now().Truncate(sc.interval)
		next := slot.Add(sc.interval)
		sctx, cancel := context.WithDeadline(ctx, next)
		for _, c := range sc.collections {
			b, p := SlotCommands(c, slot)
			for _, cmd := range []schemas.Command{b, p} {
				if err := sc.sendRetrying(sctx, send, cmd); err != nil && ctx.Err() == nil {
					o.Log.Error("scheduled backup: sending failed for the whole slot", "command", cmd.ID, "err", err)
				}
			}
		}
		sc.refreshLastSuccess(sctx)
		cancel()
		if err := job.Sleep(ctx, o.Clock, next.Sub(o.Clock.Now())); err != nil {
			return nil
		}
	}
}

func (sc *Scheduler) sendRetrying(ctx context.Context, send func(context.Context, schemas.Command) error, cmd schemas.Command) error {
	b := job.Backoff{Initial: sc.h.o.RetryInitial, Max: sc.h.o.RetryMax}
	for {
		err := send(ctx, cmd)
		if err == nil {
			sc.h.o.Log.Info("scheduled command sent", "command", cmd.ID, "type", cmd.Type, "collection", cmd.Collection)
			return nil
		}
		sc.h.o.Log.Warn("scheduled backup: sending a command failed; retrying", "command", cmd.ID, "err", err)
		if err := job.Sleep(ctx, sc.h.o.Clock, b.Next()); err != nil {
			return err
		}
	}
}

// refreshLastSuccess sets the last-success gauge of every scheduled
// collection from its newest complete manifest; a collection without one
// counts from the scheduler's start, so the alert fires when no backup
// succeeds within twice the schedule of it.
func (sc *Scheduler) refreshLastSuccess(ctx context.Context) {
	if sc.h.o.Store == nil {
		return
	}
	for _, c := range sc.collections {
		entries, err := catalog(ctx, sc.h.o.Store, c)
		if err != nil {
			sc.h.o.Log.Warn("scheduled backup: reading the store", "collection", c, "err", err)
			continue
		}
		last := sc.started
		for _, e := range entries {
			if e.complete() {
				last = e.manifest.Completed
				break
			}
		}
		sc.h.m.lastSuccess.WithLabelValues(c).Set(float64(last.Unix()))
	}
}

func newProducer(o Options) (*kgo.Client, error) {
	cl, err := kgo.NewClient(append(o.KafkaOpts, kgo.RecordRetries(10))...)
	if err != nil {
		return nil, fmt.Errorf("scheduled backup: creating a producer: %w", err)
	}
	return cl, nil
}
