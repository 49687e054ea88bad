package backup

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/seed-a550a1ef/kafka-qdrant/config"
	"github.com/seed-a550a1ef/kafka-qdrant/control/auth"
	"github.com/seed-a550a1ef/kafka-qdrant/control/job"
	"github.com/seed-a550a1ef/kafka-qdrant/schemas"
)

// Scheduler sends the scheduled backups: at the start of every slot of
// backup.schedule (slots are multiples of the interval since the zero
// time, so every replica and every restart computes the same ones), a
// backup command for each collection and a prune_backups right after it.
// The replica owning the control partition runs it (control.OwnerTask:
// Run starts with each ownership and stops when it ends). The commands'
// ids are derived from the collection and the slot (SlotCommands): a
// command id runs at most once, so a new owner that sends the slot its
// predecessor sent, or a restart within a slot, never doubles a backup. A
// slot that passed while no replica owned the control partition is not
// caught up; the next slot backs up.
//
// On each slot it also sets kafka_qdrant_backup_last_success_timestamp_seconds
// from the store (the newest complete manifest of each collection), so the
// alert on missing backups (max over the replicas) holds across owners and
// restarts.
//
// With control.auth, the commands are signed with a key that may send
// backup and prune_backups (the only key, else the first such key by id).
type Scheduler struct {
	h           *handlers
	interval    time.Duration
	collections []string
	send        func(ctx context.Context, rec *kgo.Record) error
	signer      *auth.Signer // nil without control.auth keys
	started     time.Time
}

// NewScheduler returns the scheduler of o.Config.Backup.Schedule for the
// collections of o.Config.BackupCollections(), sending its command
// records with send (nil: produce them with o.KafkaOpts).
func NewScheduler(o Options, send func(ctx context.Context, rec *kgo.Record) error) (*Scheduler, error) {
	o, err := o.withDefaults()
	if err != nil {
		return nil, err
	}
	d, err := time.ParseDuration(o.Config.Backup.Schedule)
	if err != nil || d <= 0 {
		return nil, fmt.Errorf("backup.schedule: %q is not a positive duration", o.Config.Backup.Schedule)
	}
	sc := &Scheduler{h: &handlers{o: o, m: newMetrics(o.Registerer)}, interval: d, collections: o.Config.BackupCollections(), send: send,
		started: o.Clock.Now()}
	if len(sc.collections) == 0 {
		return nil, errors.New("backup.schedule: no collection to back up (set backup.collections)")
	}
	if sc.signer, err = scheduleSigner(o.Config.Control.Auth); err != nil {
		return nil, err
	}
	sc.h.m.schedule.Set(d.Seconds())
	return sc, nil
}

// scheduleSigner is the signer of the scheduled commands: nil without
// control.auth keys, else the key (by id order) that may send backup and
// prune_backups.
func scheduleSigner(a config.ControlAuth) (*auth.Signer, error) {
	if len(a.Keys) == 0 {
		return nil, nil
	}
	id, ok := a.KeyFor(schemas.CommandBackup, schemas.CommandPruneBackups)
	if !ok {
		return nil, errors.New("backup.schedule: no key of control.auth.keys may send backup and prune_backups (control.auth.commands), so the scheduled commands could not be signed")
	}
	return auth.NewSigner(a, id)
}

// record is cmd as a control record, signed with control.auth.
func (sc *Scheduler) record(cmd schemas.Command) (*kgo.Record, error) {
	b, err := json.Marshal(cmd)
	if err != nil {
		return nil, err
	}
	rec := &kgo.Record{Topic: sc.h.o.Config.Control.Topic, Key: []byte(cmd.ID), Value: b}
	if sc.signer != nil {
		if rec.Value, rec.Headers, err = sc.signer.Sign(b, sc.h.o.Clock.Now()); err != nil {
			return nil, err
		}
	}
	return rec, nil
}

// SlotCommands returns the backup and prune commands of collection for the
// slot starting at slot.
func SlotCommands(collection string, slot time.Time) (backup, prune schemas.Command) {
	suffix := schemas.BackupIDFor(collection) + "-" + slot.UTC().Format("20060102T150405Z")
	backup = schemas.Command{ID: "backup-" + suffix, Type: schemas.CommandBackup, Collection: collection}
	prune = schemas.Command{ID: "prune-" + suffix, Type: schemas.CommandPruneBackups, Collection: collection}
	return backup, prune
}

// Run sends each slot's commands, starting with the current slot, until
// ctx ends (then it returns nil). Sending is retried until it succeeds or
// the slot passes.
func (sc *Scheduler) Run(ctx context.Context) error {
	o := sc.h.o
	send := sc.send
	if send == nil {
		p, err := newProducer(o)
		if err != nil {
			return err
		}
		defer p.Close()
		send = func(ctx context.Context, rec *kgo.Record) error {
			return p.ProduceSync(ctx, rec).FirstErr()
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

func (sc *Scheduler) sendRetrying(ctx context.Context, send func(context.Context, *kgo.Record) error, cmd schemas.Command) error {
	b := job.Backoff{Initial: sc.h.o.RetryInitial, Max: sc.h.o.RetryMax}
	for {
		rec, err := sc.record(cmd)
		if err != nil {
			return err
		}
		err = send(ctx, rec)
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
