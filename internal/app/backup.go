package app

import (
	"context"
	"fmt"
	"log/slog"
	"os"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/seed-a550a1ef/kafka-qdrant/config"
	"github.com/seed-a550a1ef/kafka-qdrant/control/backup"
	"github.com/seed-a550a1ef/kafka-qdrant/control/backup/store"
	"github.com/seed-a550a1ef/kafka-qdrant/control/job"
	"github.com/seed-a550a1ef/kafka-qdrant/schemas"
	"github.com/seed-a550a1ef/kafka-qdrant/sink"
)

// backupParts builds the backup handlers (with no backup.store they fail
// their commands with a clear error) and, with backup.schedule, the
// scheduler.
func backupParts(ctx context.Context, cfg config.Config, kopts []kgo.Opt, qc backup.Qdrant, writer *sink.Writer,
	reg prometheus.Registerer, log *slog.Logger) (map[schemas.CommandType]job.Handler, *backup.Scheduler, error) {
	var st store.Store
	if cfg.Backup.Store != "" {
		var err error
		if st, err = store.Open(ctx, cfg.Backup); err != nil {
			return nil, nil, err
		}
	}
	replica, _ := os.Hostname()
	o := backup.Options{
		Config: cfg, Store: st, Qdrant: qc, KafkaOpts: kopts, Writer: writer,
		Replica: replica, Registerer: reg, Log: log.With("component", "backup"),
	}
	hs, err := backup.Handlers(o)
	if err != nil {
		return nil, nil, fmt.Errorf("backup handlers: %w", err)
	}
	if cfg.Backup.Schedule == "" {
		return hs, nil, nil
	}
	sc, err := backup.NewScheduler(o, nil)
	if err != nil {
		return nil, nil, err
	}
	return hs, sc, nil
}
