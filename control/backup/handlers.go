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
	out := map[schemas.CommandType]job.Handler{}
	for t, f := range h.table() {
		out[t] = f
	}
	return out, nil
}

// table is every command's handler.
func (h *handlers) table() map[schemas.CommandType]handlerFunc {
	return map[schemas.CommandType]handlerFunc{
		schemas.CommandBackup:        {h.validateBackup, h.runBackup, nil},
		schemas.CommandBackupStorage: {h.validateBackupStorage, h.runBackupStorage, nil},
		schemas.CommandRestore:       {h.validateRestore, h.runRestore, restoreTouches},
		schemas.CommandListBackups:   {h.validateList, h.runList, nil},
		schemas.CommandPruneBackups:  {h.validatePrune, h.runPrune, nil},
	}
}

// handlers holds what every command shares.
type handlers struct {
	o Options
	m *metrics
}

// handlerFunc is a job.Handler from functions; run gets the session,
// touches (nil: none) names the collections a command acts on besides its
// own.
type handlerFunc struct {
	validate func(schemas.Command) error
	run      func(ctx context.Context, cmd schemas.Command, s job.Reporter) (any, error)
	touches  func(schemas.Command) []string
}

func (f handlerFunc) Validate(cmd schemas.Command) error { return f.validate(cmd) }

// Touches tells the runner which collections besides its own a command
// acts on: it queues behind every command of those too, so backups and
// restores of one collection run one at a time whether it is their source
// or a restore's target.
func (f handlerFunc) Touches(cmd schemas.Command) []string {
	if f.touches == nil {
		return nil
	}
	return f.touches(cmd)
}

// restoreTouches: a restore writes its target and switches its alias.
func restoreTouches(cmd schemas.Command) []string {
	p, err := schemas.RestoreParamsOf(cmd)
	if err != nil {
		return nil
	}
	return []string{p.Target, p.Alias}
}

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
