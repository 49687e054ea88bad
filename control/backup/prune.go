package backup

import (
	"context"
	"fmt"

	"github.com/seed-a550a1ef/kafka-qdrant/control/job"
	"github.com/seed-a550a1ef/kafka-qdrant/schemas"
)

// PruneResult is the result of prune_backups.
type PruneResult struct {
	Collection string `json:"collection"`
	KeepLast   int    `json:"keep_last"`
	MaxAge     string `json:"max_age"`
	DryRun     bool   `json:"dry_run,omitempty"`
	// Deleted are the backups deleted (with dry_run: that would be).
	Deleted []string `json:"deleted"`
	// Kept counts the complete backups kept.
	Kept int `json:"kept"`
	// Incomplete are backups without a manifest; prune never deletes them.
	Incomplete []string `json:"incomplete,omitempty"`
	Bytes      int64    `json:"bytes_deleted"`
}

func (h *handlers) validatePrune(cmd schemas.Command) error {
	if _, err := schemas.PruneBackupsParamsOf(cmd); err != nil {
		return err
	}
	if cmd.Collection == "" {
		return job.Errorf(schemas.ErrInvalidParameters, false, "prune_backups needs a collection")
	}
	return nil
}

// runPrune enforces the retention on the complete backups of a collection:
// it keeps the newest keep_last and those younger than max_age, and always
// the newest complete one; it never deletes an incomplete backup (one
// being written). A backup is deleted manifest first, so a prune that
// stops half way leaves an incomplete backup, never a manifest that names
// missing objects.
func (h *handlers) runPrune(ctx context.Context, cmd schemas.Command, s job.Reporter) (any, error) {
	if err := h.needStore(cmd); err != nil {
		return nil, err
	}
	p, err := schemas.PruneBackupsParamsOf(cmd)
	if err != nil {
		return nil, err
	}
	keep, maxAge := h.o.Config.Backup.Retention.KeepLast, h.o.Config.Backup.Retention.MaxAge
	if p.KeepLast != nil {
		keep = *p.KeepLast
	}
	if p.MaxAge != nil {
		maxAge = p.MaxAge.D()
	}
	var entries []entry
	if err := h.o.retry(ctx, "listing backups", func(ctx context.Context) error {
		entries, err = catalog(ctx, h.o.Store, cmd.Collection)
		return err
	}); err != nil {
		return nil, err
	}
	res := PruneResult{Collection: cmd.Collection, KeepLast: keep, MaxAge: maxAge.String(), DryRun: p.DryRun, Deleted: []string{}}
	now := h.o.Clock.Now()
	var doomed []entry
	complete := 0
	for _, e := range entries {
		if !e.complete() {
			res.Incomplete = append(res.Incomplete, e.id)
			continue
		}
		complete++
		tooMany := keep > 0 && complete > keep
		tooOld := maxAge > 0 && now.Sub(e.manifest.Completed) > maxAge
		if complete > 1 && (tooMany || tooOld) {
			doomed = append(doomed, e)
			continue
		}
		res.Kept++
	}
	for i, e := range doomed {
		s.Progress(schemas.Progress{Done: int64(i), Total: int64(len(doomed)), Detail: fmt.Sprintf("deleting backup %s", e.id)})
		if !p.DryRun {
			if err := h.deleteBackup(ctx, s, cmd.Collection, e); err != nil {
				return nil, err
			}
		}
		res.Deleted = append(res.Deleted, e.id)
		res.Bytes += e.bytes
	}
	return res, nil
}

// deleteBackup deletes a backup's manifest, then its other objects.
func (h *handlers) deleteBackup(ctx context.Context, s job.Reporter, collection string, e entry) error {
	if err := s.Owner().Check(ctx); err != nil {
		return err
	}
	if err := h.o.retry(ctx, "deleting the manifest of "+e.id, func(ctx context.Context) error {
		return h.o.Store.Delete(ctx, manifestKey(collection, e.id))
	}); err != nil {
		return err
	}
	var keys []string
	for _, o := range e.objects {
		if o.Key != manifestKey(collection, e.id) {
			keys = append(keys, o.Key)
		}
	}
	return h.o.retry(ctx, "deleting the objects of "+e.id, func(ctx context.Context) error {
		return h.o.Store.Delete(ctx, keys...)
	})
}
