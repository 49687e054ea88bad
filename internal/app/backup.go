package app

import (
	"context"
	"fmt"
	"os"

	"github.com/seed-a550a1ef/kafka-qdrant/control/backup"
	"github.com/seed-a550a1ef/kafka-qdrant/control/backup/store"
	"github.com/seed-a550a1ef/kafka-qdrant/control/job"
	"github.com/seed-a550a1ef/kafka-qdrant/schemas"
)

// backupParts builds the backup handlers from o (the replica's config,
// clients, writer and schemas; the store and the replica's name are
// filled in here; with no backup.store they fail their commands with a
// clear error) and, with backup.schedule, the scheduler.
func backupParts(ctx context.Context, o backup.Options) (map[schemas.CommandType]job.Handler, *backup.Scheduler, error) {
	if o.Config.Backup.Store != "" {
		var err error
		if o.Store, err = store.Open(ctx, o.Config.Backup); err != nil {
			return nil, nil, err
		}
	}
	o.Replica, _ = os.Hostname()
	hs, err := backup.Handlers(o)
	if err != nil {
		return nil, nil, fmt.Errorf("backup handlers: %w", err)
	}
	if o.Config.Backup.Schedule == "" {
		return hs, nil, nil
	}
	sc, err := backup.NewScheduler(o, nil)
	if err != nil {
		return nil, nil, err
	}
	return hs, sc, nil
}
