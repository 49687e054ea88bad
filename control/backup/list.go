package backup

import (
	"context"
	"fmt"
	"time"

	"github.com/seed-a550a1ef/kafka-qdrant/control/job"
	"github.com/seed-a550a1ef/kafka-qdrant/schemas"
)

// BackupInfo is one backup in the result of list_backups.
type BackupInfo struct {
	BackupID string `json:"backup_id"`
	// Complete is true when the manifest exists; an incomplete backup is
	// being written, or was left by a writer that died (prune keeps it).
	Complete  bool       `json:"complete"`
	Kind      string     `json:"kind,omitempty"`
	CommandID string     `json:"command_id,omitempty"`
	Started   *time.Time `json:"started,omitempty"`
	Completed *time.Time `json:"completed,omitempty"`
	Bytes     int64      `json:"bytes"`
	Snapshots int        `json:"snapshots"`
	Points    int64      `json:"points_count,omitempty"`
	// Manifest is the manifest's key in the store.
	Manifest string `json:"manifest,omitempty"`
}

// ListResult is the result of list_backups.
type ListResult struct {
	Collection string       `json:"collection,omitempty"`
	Store      string       `json:"store"`
	Backups    []BackupInfo `json:"backups"`
}

func (h *handlers) validateList(cmd schemas.Command) error {
	_, err := schemas.ListBackupsParamsOf(cmd)
	return err
}

// runList lists the backups of the command's collection (none: the
// storage backups), newest first.
func (h *handlers) runList(ctx context.Context, cmd schemas.Command, s job.Reporter) (any, error) {
	if err := h.needStore(cmd); err != nil {
		return nil, err
	}
	var entries []entry
	err := h.o.retry(ctx, "listing backups", func(ctx context.Context) error {
		var err error
		entries, err = catalog(ctx, h.o.Store, cmd.Collection)
		return err
	})
	if err != nil {
		return nil, err
	}
	res := ListResult{Collection: cmd.Collection, Store: h.o.Store.String(), Backups: []BackupInfo{}}
	for _, e := range entries {
		res.Backups = append(res.Backups, infoOf(cmd.Collection, e))
	}
	s.Progress(schemas.Progress{Done: int64(len(res.Backups)), Total: int64(len(res.Backups)), Detail: fmt.Sprintf("%d backups", len(res.Backups))})
	return res, nil
}

func infoOf(collection string, e entry) BackupInfo {
	info := BackupInfo{BackupID: e.id, Complete: e.complete(), Bytes: e.bytes}
	if m := e.manifest; m != nil {
		started, completed := m.Started, m.Completed
		info.Kind, info.CommandID, info.Started, info.Completed = m.Kind, m.CommandID, &started, &completed
		info.Snapshots, info.Points = len(m.Snapshots), m.PointsCount
		info.Manifest = manifestKey(collection, e.id)
	} else {
		info.Snapshots = len(e.objects)
	}
	return info
}
