package backup

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/qdrant/go-client/qdrant"

	"github.com/seed-a550a1ef/kafka-qdrant/control/backup/store"
	"github.com/seed-a550a1ef/kafka-qdrant/control/job"
	"github.com/seed-a550a1ef/kafka-qdrant/schemas"
	"github.com/seed-a550a1ef/kafka-qdrant/sink"
)

// RestoreResult is the result of restore.
type RestoreResult struct {
	BackupID   string `json:"backup_id"`
	Collection string `json:"collection"`
	Target     string `json:"target"`
	Snapshots  int    `json:"snapshots"`
	// Bytes came from the store (method upload).
	Bytes  int64         `json:"bytes"`
	Replay *ReplayResult `json:"replay,omitempty"`
	// Alias was switched to Target; PreviousTarget is what it named before
	// (empty: it did not exist).
	Alias          string `json:"alias,omitempty"`
	PreviousTarget string `json:"previous_target,omitempty"`
	// PauseSeconds is how long the data path was paused for the switch.
	PauseSeconds float64 `json:"pause_seconds,omitempty"`
}

// restoreState is a restore's checkpoint.
type restoreState struct {
	BackupID string `json:"backup_id"`
	// Checked is set once the target's existence was checked; Created
	// when this restore created it (so it is its own target on resume,
	// and removed if the restore fails).
	Checked  bool   `json:"checked"`
	Created  bool   `json:"created"`
	Uploaded []bool `json:"uploaded"`
	Bytes    int64  `json:"bytes"`
	// Replay progress.
	Positions []position `json:"positions,omitempty"`
	Records   int64      `json:"records"`
	Skipped   int64      `json:"skipped"`
	Rejected  int64      `json:"rejected"`
	// Switched is set once the alias names the target.
	Switched       bool    `json:"switched,omitempty"`
	PreviousTarget string  `json:"previous_target,omitempty"`
	PauseSeconds   float64 `json:"pause_seconds,omitempty"`
}

func (h *handlers) validateRestore(cmd schemas.Command) error {
	p, err := schemas.RestoreParamsOf(cmd)
	if err != nil {
		return err
	}
	if err := h.needStore(cmd); err != nil {
		return err
	}
	if p.Method == schemas.RestoreRecoverURL {
		if _, ok := h.o.Store.(store.Presigner); !ok {
			return job.Errorf(schemas.ErrInvalidParameters, false, "method %s needs an s3:// backup store (Qdrant fetches a presigned URL)", p.Method)
		}
	}
	return nil
}

func (h *handlers) runRestore(ctx context.Context, cmd schemas.Command, s job.Reporter) (any, error) {
	start := h.o.Clock.Now()
	res, err := h.restore(ctx, cmd, s)
	if err != nil && ctx.Err() != nil {
		err = context.Cause(ctx)
	}
	h.m.observe("restore", start, h.o.Clock.Now(), err)
	if err != nil {
		return nil, err
	}
	return res, nil
}

// restore restores a backup into its target:
//
//	manifest ─▶ target check ─▶ per snapshot: store ═▶ Qdrant upload (priority snapshot, checksum)
//	   ─▶ [replay from the backup's offsets] ─▶ [pause ─▶ replay to the acknowledged offsets ─▶ switch alias ─▶ lift]
//
// Each step is checkpointed. A failed or cancelled restore removes a target
// it created (unless the alias already names it); a handover leaves it to
// the next owner, which resumes.
func (h *handlers) restore(ctx context.Context, cmd schemas.Command, s job.Reporter) (res RestoreResult, err error) {
	if err := h.needStore(cmd); err != nil {
		return res, err
	}
	p, err := schemas.RestoreParamsOf(cmd)
	if err != nil {
		return res, err
	}
	var st restoreState
	if _, err := loadState(s, &st); err != nil {
		return res, err
	}
	if st.BackupID == "" {
		st.BackupID = p.BackupID
	}
	var m schemas.BackupManifest
	if err := h.o.retry(ctx, "reading the backup", func(ctx context.Context) (err error) {
		m, err = h.chooseBackup(ctx, cmd.Collection, st.BackupID, p.Until)
		return err
	}); err != nil {
		return res, err
	}
	if m.Kind != schemas.BackupKindCollection {
		return res, job.Errorf(schemas.ErrInvalidParameters, false, "backup %s is a %s backup; restore restores collection backups", m.BackupID, m.Kind)
	}
	st.BackupID = m.BackupID
	res = RestoreResult{BackupID: m.BackupID, Collection: cmd.Collection, Target: p.Target, Snapshots: len(m.Snapshots)}

	defer func() {
		if err != nil && !errors.Is(context.Cause(ctx), job.ErrHandover) && !errors.Is(err, job.ErrHandover) {
			h.dropTarget(s, &st, p.Target)
		}
	}()

	if !st.Checked {
		var exists bool
		if err := h.o.retry(ctx, "checking the target", func(ctx context.Context) (err error) {
			exists, err = h.o.Qdrant.CollectionExists(ctx, p.Target)
			return err
		}); err != nil {
			return res, err
		}
		if exists && !p.Overwrite {
			return res, job.Errorf(schemas.ErrTargetExists, false, "collection %q exists; restore into another target or set overwrite", p.Target)
		}
		st.Checked, st.Created, st.Uploaded = true, !exists, make([]bool, len(m.Snapshots))
		if err := checkpoint(ctx, s, st); err != nil {
			return res, err
		}
	}

	var rp *replayer
	if p.Replay {
		// Check the replay can be done before spending time on uploads.
		if rp, err = h.newReplayer(ctx, s, &st, m, p.Target); err != nil {
			return res, err
		}
		defer rp.close()
	}
	var pauseTopics []string
	if p.Alias != "" && !st.Switched {
		if pauseTopics, err = h.aliasPause(ctx, cmd.Collection, p, rp); err != nil {
			return res, err
		}
	}

	for i := range m.Snapshots {
		if st.Uploaded[i] {
			continue
		}
		if err := h.restoreSnapshot(ctx, s, &st, m, i, p); err != nil {
			return res, err
		}
		st.Uploaded[i] = true
		if err := checkpoint(ctx, s, st); err != nil {
			return res, err
		}
	}
	res.Bytes = st.Bytes
	h.m.bytes.WithLabelValues("restore").Add(float64(st.Bytes))

	if rp != nil && !st.Switched {
		stop, err := h.replay(ctx, rp, p, m)
		if err != nil {
			return res, err
		}
		if len(pauseTopics) > 0 {
			if err := h.pauseAndSwitch(ctx, s, &st, rp, p, pauseTopics); err != nil {
				return res, err
			}
			stop = rp.pos
		}
		res.Replay = &ReplayResult{Records: st.Records, Skipped: st.Skipped, Rejected: st.Rejected, To: positions(stop)}
	} else if rp != nil {
		res.Replay = &ReplayResult{Records: st.Records, Skipped: st.Skipped, Rejected: st.Rejected, To: st.Positions}
	}
	if p.Alias != "" && !st.Switched {
		if err := h.switchAlias(ctx, s, &st, p.Alias, p.Target); err != nil {
			return res, err
		}
	}
	res.Alias, res.PreviousTarget, res.PauseSeconds = p.Alias, st.PreviousTarget, st.PauseSeconds
	return res, nil
}

// chooseBackup finds the backup to restore: the one named, else the newest
// complete one, or with until the newest completed before it.
func (h *handlers) chooseBackup(ctx context.Context, collection, id string, until *time.Time) (schemas.BackupManifest, error) {
	if id != "" || until == nil {
		return findBackup(ctx, h.o.Store, collection, id)
	}
	entries, err := catalog(ctx, h.o.Store, collection)
	if err != nil {
		return schemas.BackupManifest{}, err
	}
	for _, e := range entries {
		if e.complete() && !e.manifest.Completed.After(*until) {
			return *e.manifest, nil
		}
	}
	return schemas.BackupManifest{}, job.Errorf(schemas.ErrBackupNotFound, false, "no complete backup of %q completed before %s", collection, until.Format(time.RFC3339))
}

// nodeFor picks the node a snapshot goes to: the node it was taken on when
// it is still configured, else the first node (a restore does not need the
// original topology: Qdrant moves recovered shards to the node it
// recovers them on).
func (h *handlers) nodeFor(sn schemas.BackupSnapshot) *sink.SnapshotClient {
	if n := h.node(sn.Node); n != nil {
		return n
	}
	return h.o.Nodes[0]
}

// restoreSnapshot recovers the target from snapshot i, always with
// priority snapshot (the snapshot's data wins over any other replica).
func (h *handlers) restoreSnapshot(ctx context.Context, s job.Reporter, st *restoreState, m schemas.BackupManifest, i int, p schemas.RestoreParams) error {
	sn := m.Snapshots[i]
	n := h.nodeFor(sn)
	if err := s.Owner().Check(ctx); err != nil {
		return err
	}
	detail := fmt.Sprintf("restoring snapshot %d/%d of %s into %s on %s", i+1, len(m.Snapshots), m.BackupID, p.Target, n.BaseURL())
	s.Progress(h.restoreProgress(st, m, detail))
	if p.Method == schemas.RestoreRecoverURL {
		return h.o.retry(ctx, "recovering "+sn.Key, func(ctx context.Context) error {
			url, err := h.o.Store.(store.Presigner).PresignGet(ctx, sn.Key, time.Hour)
			if err != nil {
				return err
			}
			return checksumError(n.RecoverSnapshot(ctx, p.Target, url, sink.RecoverOptions{Priority: sink.PrioritySnapshot, Checksum: sn.SHA256}))
		})
	}
	// Qdrant keeps an uploaded file in the collection's snapshots
	// directory; it is named after the backup and removed afterwards.
	file := fmt.Sprintf("kq-restore-%s-%d.snapshot", m.BackupID, sn.PeerID)
	base := st.Bytes
	err := h.o.retry(ctx, "uploading "+sn.Key, func(ctx context.Context) error {
		rc, obj, err := h.o.Store.Get(ctx, sn.Key)
		if err != nil {
			if errors.Is(err, store.ErrNotFound) {
				return job.Errorf(schemas.ErrBackupNotFound, false, "object %s of backup %s is missing from the store", sn.Key, m.BackupID)
			}
			return err
		}
		defer rc.Close()
		if obj.Size != sn.Size {
			return job.Errorf(schemas.ErrChecksumMismatch, false, "object %s has %d bytes, the manifest says %d", sn.Key, obj.Size, sn.Size)
		}
		cr := &countingReader{r: rc, every: 8 << 20, progress: func(n int64) {
			st.Bytes = base + n
			s.Progress(h.restoreProgress(st, m, detail))
		}}
		err = n.UploadSnapshot(ctx, p.Target, cr, sn.Size, sink.UploadOptions{Priority: sink.PrioritySnapshot, Checksum: sn.SHA256, FileName: file})
		if cr.err != nil && errors.Is(cr.err, store.ErrChecksumMismatch) {
			return job.Errorf(schemas.ErrChecksumMismatch, false, "object %s of backup %s is corrupt: %w", sn.Key, m.BackupID, cr.err)
		}
		if err != nil {
			return checksumError(err)
		}
		st.Bytes = base + cr.n
		return nil
	})
	if err != nil {
		return err
	}
	if err := n.DeleteSnapshot(ctx, p.Target, file); err != nil && sink.StatusOf(err) != 404 {
		h.o.Log.Warn("restore: deleting the uploaded snapshot file on the node", "node", n.BaseURL(), "file", file, "err", err)
	}
	return nil
}

// checksumError turns Qdrant's refusal of a snapshot whose SHA-256 differs
// (400 "Checksum mismatch" on upload, "Snapshot checksum mismatch" on
// recover) into the command's checksum_mismatch.
func checksumError(err error) error {
	var re *sink.RESTError
	if errors.As(err, &re) && re.Status == 400 && strings.Contains(re.Message, "hecksum mismatch") {
		return job.Errorf(schemas.ErrChecksumMismatch, false, "Qdrant refused the snapshot: %w", err)
	}
	return err
}

func (h *handlers) restoreProgress(st *restoreState, m schemas.BackupManifest, detail string) schemas.Progress {
	var total int64
	uploaded := 0
	for i, sn := range m.Snapshots {
		total += sn.Size
		if i < len(st.Uploaded) && st.Uploaded[i] {
			uploaded++
		}
	}
	return schemas.Progress{Done: st.Bytes, Total: total, Detail: detail,
		Data: mustJSON(map[string]any{"phase": "upload", "bytes": st.Bytes, "snapshots_done": uploaded, "snapshots": len(m.Snapshots)})}
}

// replay runs the replay: up to the offsets Kafka gives for until, or until
// the target has caught up with the data group.
func (h *handlers) replay(ctx context.Context, rp *replayer, p schemas.RestoreParams, m schemas.BackupManifest) (offsets, error) {
	if p.Until == nil {
		return rp.catchUp(ctx)
	}
	var stop offsets
	if err := h.o.retry(ctx, "finding the offsets of "+p.Until.Format(time.RFC3339), func(ctx context.Context) (err error) {
		stop, err = rp.kv.at(ctx, p.Until.UnixMilli(), rp.topics)
		return err
	}); err != nil {
		return nil, err
	}
	end := map[tp]int64{}
	for _, t := range m.Offsets.Topics {
		for _, pt := range t.Partitions {
			end[tp{t.Topic, pt.Partition}] = pt.End
		}
	}
	for pp, s := range stop {
		if e, ok := end[pp]; ok && s < e {
			return nil, job.Errorf(schemas.ErrInvalidParameters, false,
				"until %s is inside backup %s (%s[%d]: offset %d for until, the backup ends at %d): its snapshots may hold later records; restore an older backup",
				p.Until.Format(time.RFC3339), m.BackupID, pp.topic, pp.partition, s, e)
		}
	}
	return stop, rp.run(ctx, stop, "replay")
}

// pauseAndSwitch switches the alias after the replay with nothing lost
// (datapath.go): it publishes a data pause, waits until every partition of
// the collection's topics acknowledged it (their committed offsets are
// then exactly what the data path applied to the alias's old collection),
// replays up to those offsets, switches the alias and lifts the pause; the
// data path goes on from there into the target.
func (h *handlers) pauseAndSwitch(ctx context.Context, s job.Reporter, st *restoreState, rp *replayer, p schemas.RestoreParams, topics []string) (err error) {
	start := h.o.Clock.Now()
	dp := h.newPause(rp.collection, topics, start)
	rp.pause = &dp
	lifted := false
	lift := func(ctx context.Context) error {
		rp.pause = nil
		s.Progress(rp.progress(nil, "data path resumed"))
		if err := s.Checkpoint(ctx, *st); err != nil {
			return err
		}
		lifted = true
		d := h.o.Clock.Now().Sub(start)
		st.PauseSeconds = d.Seconds()
		h.m.pause.Observe(d.Seconds())
		h.o.Log.Info("restore: data path resumed after the alias switch", "alias", p.Alias, "target", p.Target, "pause", d.Round(time.Millisecond), "pause_id", dp.ID)
		return nil
	}
	defer func() {
		if lifted {
			return
		}
		// Failed, cancelled or handed over: lift the pause now if this
		// replica still may (else the next attempt's first event, the
		// final status or the lease lifts it).
		lctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		if lerr := lift(lctx); lerr != nil {
			h.o.Log.Warn("restore: lifting the data pause after a failure; the command's next event or the lease ends it", "pause_id", dp.ID, "until", dp.Until, "err", lerr)
		}
	}()

	s.Progress(rp.progress(nil, "pausing the data path of "+strings.Join(topics, ", ")+" to switch alias "+p.Alias))
	if err := checkpoint(ctx, s, *st); err != nil {
		return err
	}
	h.o.Log.Info("restore: data pause published", "collection", rp.collection, "topics", topics, "pause_id", dp.ID, "until", dp.Until)
	pctx, cancel := context.WithTimeout(ctx, h.o.PauseTimeout)
	defer cancel()
	timedOut := func(what string, err error) error {
		if ctx.Err() == nil && pctx.Err() != nil {
			return job.Errorf(schemas.ErrTimeout, true, "%s within restore's pause timeout (%s): %v", what, h.o.PauseTimeout, err)
		}
		return err
	}
	stop, err := h.awaitPause(pctx, rp, dp)
	if err != nil {
		return timedOut("the data path did not pause (every replica of the data group must run with control.enabled)", err)
	}
	if err := rp.run(pctx, stop, "replay (data path paused)"); err != nil {
		return timedOut("the replay did not reach the paused data group", err)
	}
	if err := h.switchAlias(pctx, s, st, p.Alias, p.Target); err != nil {
		return timedOut("the alias switch did not complete", err)
	}
	return lift(ctx)
}

// aliasPause decides how the alias switch goes: when the data path writes
// to the alias (records of some topic may route to it), the switch needs a
// replay to now of the same records and a data pause over the topics it
// returns (the replay's and the alias's); else (an alias the data path
// does not write) it switches after the restore, without pause.
func (h *handlers) aliasPause(ctx context.Context, collection string, p schemas.RestoreParams, rp *replayer) ([]string, error) {
	var kv *kafkaView
	if rp != nil {
		kv = rp.kv
	} else {
		var err error
		if kv, err = newKafkaView(h.o.KafkaOpts, h.o.Config); err != nil {
			return nil, fail(ctx, "connecting to Kafka", err)
		}
		defer kv.close()
	}
	var written []string
	if err := h.o.retry(ctx, "listing the topics of alias "+p.Alias, func(ctx context.Context) (err error) {
		written, err = kv.topicsFor(ctx, p.Alias)
		return err
	}); err != nil {
		return nil, err
	}
	if len(written) == 0 {
		return nil, nil
	}
	switch {
	case !p.Replay:
		return nil, job.Errorf(schemas.ErrInvalidParameters, false,
			"the data path writes to %q (records of %s): switching it to a restore that is not replayed would lose what came after the backup; restore with replay, or switch another alias",
			p.Alias, strings.Join(written, ", "))
	case p.Alias != collection && !h.o.Config.Routing.AllowRecordOverride:
		return nil, job.Errorf(schemas.ErrInvalidParameters, false,
			"the data path writes to %q (records of %s) but the replay applies the records of %q: restore the name the data path writes to (restore %s ... --alias %s)",
			p.Alias, strings.Join(written, ", "), collection, p.Alias, p.Alias)
	}
	topics := append(slices.Clone(rp.topics), written...)
	slices.Sort(topics)
	return slices.Compact(topics), nil
}

// switchAlias points alias at target in one UpdateAliases call (delete and
// create apply together), remembering what it named before. In a cluster,
// Qdrant answers an alias change that creates an alias only once every
// peer applied it (lib/storage/src/dispatcher.rs, submit_collection_meta_op:
// do_sync_nodes for ChangeAliases with CreateAlias), so when it returns no
// node resolves the alias to the old collection any more: the data path
// may resume.
func (h *handlers) switchAlias(ctx context.Context, s job.Reporter, st *restoreState, alias, target string) error {
	if err := s.Owner().Check(ctx); err != nil {
		return err
	}
	return h.o.retry(ctx, "switching alias "+alias, func(ctx context.Context) error {
		all, err := h.o.Qdrant.ListAliases(ctx)
		if err != nil {
			return err
		}
		for _, a := range all {
			if a.GetAliasName() == alias {
				st.PreviousTarget = a.GetCollectionName()
			}
		}
		err = h.o.Qdrant.UpdateAliases(ctx, []*qdrant.AliasOperations{
			qdrant.NewAliasDelete(alias),
			qdrant.NewAliasCreate(alias, target),
		})
		if err != nil {
			return err
		}
		st.Switched = true
		return nil
	})
}

// dropTarget deletes a target the failed restore created, unless the alias
// already serves it.
func (h *handlers) dropTarget(s job.Reporter, st *restoreState, target string) {
	if !st.Created || st.Switched {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := s.Owner().Check(ctx); err != nil {
		h.o.Log.Warn("not removing the target of a failed restore: no longer the owner", "target", target, "err", err)
		return
	}
	if err := h.o.Qdrant.DeleteCollection(ctx, target); err != nil {
		h.o.Log.Warn("removing the target of a failed restore", "target", target, "err", err)
	}
}
