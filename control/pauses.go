package control

import (
	"context"
	"time"

	"github.com/seed-a550a1ef/kafka-qdrant/control/statusview"
	"github.com/seed-a550a1ef/kafka-qdrant/schemas"
)

// DataPauses returns the data pauses in force at now (connector.PauseSource):
// those the latest status event of a running command carries
// (schemas.PauseOf) whose lease has not lapsed. A restore publishes one
// while it switches an alias; every replica's connector follows them.
func (r *Runner) DataPauses(now time.Time) []schemas.DataPause {
	var out []schemas.DataPause
	r.follower.View().Each(func(e statusview.Entry) {
		if p, ok := schemas.PauseOf(e.Latest); ok && now.Before(p.Until) {
			out = append(out, p)
		}
	})
	return out
}

// SyncStatus waits until the status view holds every event published
// before the call (connector.PauseSource): a data pause published before
// is then in DataPauses. It needs Run to be running.
func (r *Runner) SyncStatus(ctx context.Context) error { return r.follower.Sync(ctx) }
