package backup

import "context"

// DataPath is the data path's part in switching an alias after a replay,
// the one place a restore needs the connector's cooperation. Switching
// while records keep arriving must lose no write and let no older write
// overwrite a newer one; with every replica applying records to the alias
// that is only exact while nothing is applied:
//
//	replay until close ─▶ Pause(topics) ─▶ committed offsets = applied
//	  ─▶ replay up to them ─▶ switch the alias ─▶ resume
//
// Pause must make every replica of the data group stop applying records of
// topics (a batch in flight finishes or is abandoned, not retried later),
// commit every record it applied, and keep partitions that move between
// replicas paused, before it returns; then the group's committed offsets
// are exactly what was applied. The returned resume undoes it and must be
// safe to call once even after ctx ended. The pause is reported in the
// restore's progress and result.
type DataPath interface {
	Pause(ctx context.Context, topics []string) (resume func(context.Context) error, err error)
}
