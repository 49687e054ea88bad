package backup

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/seed-a550a1ef/kafka-qdrant/control/job"
	"github.com/seed-a550a1ef/kafka-qdrant/schemas"
)

// Handlers returns the handlers of backup, backup_storage, restore,
// list_backups and prune_backups, for control.RunnerConfig.Handlers.
func Handlers(o Options) (map[schemas.CommandType]job.Handler, error) {
	o, err := o.withDefaults()
	if err != nil {
		return nil, err
	}
	h := &handlers{o: o, m: newMetrics(o.Registerer)}
	return map[schemas.CommandType]job.Handler{
		schemas.CommandBackup:        handlerFunc{h.validateBackup, h.runBackup},
		schemas.CommandBackupStorage: handlerFunc{h.validateBackupStorage, h.runBackupStorage},
		schemas.CommandRestore:       handlerFunc{h.validateRestore, h.runRestore},
		schemas.CommandListBackups:   handlerFunc{h.validateList, h.runList},
		schemas.CommandPruneBackups:  handlerFunc{h.validatePrune, h.runPrune},
	}, nil
}

// handlers holds what every command shares.
type handlers struct {
	o Options
	m *metrics
}

// handlerFunc is a job.Handler from two functions; run gets the session.
type handlerFunc struct {
	validate func(schemas.Command) error
	run      func(ctx context.Context, cmd schemas.Command, s job.Reporter) (any, error)
}

func (f handlerFunc) Validate(cmd schemas.Command) error { return f.validate(cmd) }

func (f handlerFunc) Run(ctx context.Context, cmd schemas.Command, rep job.Reporter) (any, error) {
	return f.run(ctx, cmd, rep)
}

// needStore fails a command when no backup store is configured.
func (h *handlers) needStore(cmd schemas.Command) error {
	if h.o.Store == nil {
		return job.Errorf(schemas.ErrUnsupported, false, "%s needs a backup store: set backup.store (s3://bucket/prefix or file:///dir)", cmd.Type)
	}
	return nil
}

// checkpoint saves state, failing the command when it cannot.
func checkpoint(ctx context.Context, s job.Reporter, state any) error {
	if err := s.Checkpoint(ctx, state); err != nil {
		if ctx.Err() != nil {
			return context.Cause(ctx)
		}
		return fmt.Errorf("saving a checkpoint: %w", err)
	}
	return nil
}

// restoreState reads the last checkpoint of the command into state; it
// reports whether there was one.
func loadState(s job.Reporter, state any) (bool, error) {
	ok, err := s.Restore(state)
	if err != nil {
		return false, job.Errorf(schemas.ErrInternal, false, "reading the checkpoint: %w", err)
	}
	return ok, nil
}

func mustJSON(v any) json.RawMessage {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}
