package backup

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
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
	if p.Alias != "" && p.Replay && h.o.DataPath == nil {
		return job.Errorf(schemas.ErrUnsupported, false, "restore with replay and alias needs the data path to pause for the switch, which this build's data path does not offer")
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
//	   ─▶ [replay from the backup's offsets] ─▶ [pause ─▶ replay to the committed offsets ─▶ switch alias ─▶ resume]
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
		if p.Alias != "" {
			if err := h.pauseAndSwitch(ctx, s, &st, rp, p); err != nil {
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

// pauseAndSwitch switches the alias after the replay with nothing lost:
// the data path pauses, so the group's committed offsets are exactly what
// it applied to the alias's old collection; the replay reaches them; the
// alias switches; the data path resumes and goes on from there into the
// target.
func (h *handlers) pauseAndSwitch(ctx context.Context, s job.Reporter, st *restoreState, rp *replayer, p schemas.RestoreParams) error {
	s.Progress(schemas.Progress{Done: st.Records, Detail: "pausing the data path of " + strings.Join(rp.topics, ", ") + " to switch alias " + p.Alias})
	pctx, cancel := context.WithTimeout(ctx, h.o.PauseTimeout)
	defer cancel()
	start := h.o.Clock.Now()
	resume, err := h.o.DataPath.Pause(pctx, rp.topics)
	if err != nil {
		if ctx.Err() != nil {
			return context.Cause(ctx)
		}
		return job.Errorf(schemas.ErrUnavailable, true, "pausing the data path for the alias switch: %w", err)
	}
	var once sync.Once
	doResume := func() {
		once.Do(func() {
			rctx, rcancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
			defer rcancel()
			if err := resume(rctx); err != nil {
				h.o.Log.Error("restore: resuming the data path", "err", err)
			}
			d := h.o.Clock.Now().Sub(start)
			st.PauseSeconds = d.Seconds()
			h.m.pause.Observe(d.Seconds())
		})
	}
	defer doResume()
	stop, err := rp.kv.committed(pctx, rp.topics)
	if err != nil {
		return fail(ctx, "reading the offsets of the paused data group", err)
	}
	rp.floor(stop)
	if err := rp.run(pctx, stop, "replay (data path paused)"); err != nil {
		if ctx.Err() == nil && pctx.Err() != nil {
			return job.Errorf(schemas.ErrTimeout, true, "the replay did not reach the paused data group within %s", h.o.PauseTimeout)
		}
		return err
	}
	if err := h.switchAlias(pctx, s, st, p.Alias, p.Target); err != nil {
		return err
	}
	doResume()
	return checkpoint(ctx, s, *st)
}

// switchAlias points alias at target in one UpdateAliases call (delete and
// create apply together), remembering what it named before.
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
