package backup

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sort"
	"time"

	"github.com/seed-a550a1ef/kafka-qdrant/control/backup/store"
	"github.com/seed-a550a1ef/kafka-qdrant/control/job"
	"github.com/seed-a550a1ef/kafka-qdrant/schemas"
)

// entry is one backup found in the store: complete when its manifest
// exists, else a backup being written (or one whose writer died before
// cleaning up).
type entry struct {
	id       string
	manifest *schemas.BackupManifest
	objects  []store.Object
	bytes    int64
	modified time.Time
}

func (e entry) complete() bool { return e.manifest != nil }

// when is the time a backup is sorted by: its completion, else its latest
// object.
func (e entry) when() time.Time {
	if e.manifest != nil {
		return e.manifest.Completed
	}
	return e.modified
}

// catalog lists the backups of collection ("" : storage backups), newest
// first, reading every manifest.
func catalog(ctx context.Context, st store.Store, collection string) ([]entry, error) {
	prefix := collectionPrefix(collection)
	objs, err := st.List(ctx, prefix)
	if err != nil {
		return nil, err
	}
	byID := map[string]*entry{}
	var order []string
	for _, o := range objs {
		id, isManifest, ok := backupIDOf(prefix, o.Key)
		if !ok {
			continue
		}
		e := byID[id]
		if e == nil {
			e = &entry{id: id}
			byID[id] = e
			order = append(order, id)
		}
		e.objects = append(e.objects, o)
		if !isManifest {
			e.bytes += o.Size
		}
		if o.Modified.After(e.modified) {
			e.modified = o.Modified
		}
		if isManifest {
			m, err := readManifest(ctx, st, o.Key)
			if err != nil {
				return nil, err
			}
			e.manifest = &m
		}
	}
	out := make([]entry, 0, len(order))
	for _, id := range order {
		out = append(out, *byID[id])
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].when().After(out[j].when()) })
	return out, nil
}

func readManifest(ctx context.Context, st store.Store, key string) (schemas.BackupManifest, error) {
	rc, _, err := st.Get(ctx, key)
	if err != nil {
		return schemas.BackupManifest{}, err
	}
	defer rc.Close()
	b, err := io.ReadAll(io.LimitReader(rc, 16<<20))
	if err != nil {
		return schemas.BackupManifest{}, err
	}
	m, err := schemas.DecodeBackupManifest(b)
	if err != nil {
		return m, fmt.Errorf("%s: %w", key, err)
	}
	return m, nil
}

// findBackup returns the manifest of backup id of collection, or, with id
// empty, of its newest complete backup. A missing one is ErrBackupNotFound.
func findBackup(ctx context.Context, st store.Store, collection, id string) (schemas.BackupManifest, error) {
	if id != "" {
		m, err := readManifest(ctx, st, manifestKey(collection, id))
		if errors.Is(err, store.ErrNotFound) {
			return m, errBackupNotFound(collection, id)
		}
		return m, err
	}
	entries, err := catalog(ctx, st, collection)
	if err != nil {
		return schemas.BackupManifest{}, err
	}
	for _, e := range entries {
		if e.complete() {
			return *e.manifest, nil
		}
	}
	return schemas.BackupManifest{}, errBackupNotFound(collection, "")
}

func errBackupNotFound(collection, id string) error {
	if id == "" {
		return job.Errorf(schemas.ErrBackupNotFound, false, "no complete backup of collection %q in the store", collection)
	}
	return job.Errorf(schemas.ErrBackupNotFound, false, "backup %q of collection %q is not in the store (or not complete)", id, collection)
}
