package index

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"time"

	"github.com/qdrant/go-client/qdrant"

	"github.com/seed-a550a1ef/kafka-qdrant/control/job"
)

// Collections is the part of Qdrant's gRPC API the handlers use;
// *qdrant.Client implements it.
type Collections interface {
	CollectionExists(ctx context.Context, name string) (bool, error)
	GetCollectionInfo(ctx context.Context, name string) (*qdrant.CollectionInfo, error)
	UpdateCollection(ctx context.Context, req *qdrant.UpdateCollection) error
}

// Activity is the optimizer activity of a collection as the REST endpoint
// GET /collections/{c}/optimizations reports it.
type Activity struct {
	Running      int
	Queued       int
	QueuedPoints int64
}

// Idle reports whether nothing runs and nothing is queued.
func (a Activity) Idle() bool { return a.Running == 0 && a.Queued == 0 }

// ErrNoOptimizationsAPI is returned by an Optimizations source whose server
// lacks the endpoint (Qdrant before 1.17, or a server that does not serve
// it). index_build then relies on the collection status alone.
var ErrNoOptimizationsAPI = errors.New("optimizations endpoint not available")

// Optimizations reports a collection's optimizer activity.
type Optimizations interface {
	Optimizations(ctx context.Context, collection string) (Activity, error)
}

// DeferRecords finds what index_defer recorded.
type DeferRecords interface {
	// LastDefer returns the result of the collection's pending
	// index_defer — the latest succeeded one that no succeeded
	// index_build followed — having caught up with the status topic
	// first; found is false when there is none.
	LastDefer(ctx context.Context, collection string) (result json.RawMessage, found bool, err error)
}

// Options configure the handlers. Collections is required; the zero value
// of every other field means its default.
type Options struct {
	Collections Collections
	// Optimizations, when set, is consulted by index_build.
	Optimizations Optimizations
	// Records, when set, gives index_build the previous settings recorded
	// by index_defer, and index_defer the settings a repeated defer keeps.
	Records DeferRecords
	// Clock measures deadlines and sleeps; default job.RealClock.
	Clock job.Clock
	// PollInterval is index_build's first delay between polls (default
	// 1s); the params' poll_interval overrides it per command.
	PollInterval time.Duration
	// MaxPollInterval caps the growing delay (default 15s).
	MaxPollInterval time.Duration
	// RetryInitial and RetryMax bound the backoff between retries of
	// transient Qdrant failures (default 200ms and 10s).
	RetryInitial, RetryMax time.Duration
	// RetryFor is how long transient failures may last before the command
	// fails with code unavailable (default 5m).
	RetryFor time.Duration
	// InternalAttempts bounds the attempts of a call failing with
	// Internal (Qdrant's ServiceError: storage or consensus trouble a retry
	// rarely fixes) before the command fails (default
	// job.DefaultBriefAttempts).
	InternalAttempts int
	// Settle is how long after a settings change idle polls do not end
	// index_build unless the collection was seen busy since: Qdrant
	// applies settings to its optimizers in the background, within
	// milliseconds when no optimization is in flight (and the collection
	// is yellow while one is). Default: 3 × PollInterval.
	Settle time.Duration
	// RedGrace is how long a red collection (optimizer error) is waited
	// out before index_build fails: an error such as a failed optimizer
	// recreation clears with the next successful one (default 1m).
	RedGrace time.Duration
	// CallTimeout bounds one Qdrant call (default 30s).
	CallTimeout time.Duration
	// Log receives retry warnings; default slog.Default().
	Log *slog.Logger
}

func (o Options) withDefaults() Options {
	if o.Clock == nil {
		o.Clock = job.RealClock
	}
	if o.PollInterval <= 0 {
		o.PollInterval = time.Second
	}
	if o.MaxPollInterval <= 0 {
		o.MaxPollInterval = 15 * time.Second
	}
	if o.MaxPollInterval < o.PollInterval {
		o.MaxPollInterval = o.PollInterval
	}
	if o.RetryInitial <= 0 {
		o.RetryInitial = 200 * time.Millisecond
	}
	if o.RetryMax <= 0 {
		o.RetryMax = 10 * time.Second
	}
	if o.RetryFor <= 0 {
		o.RetryFor = 5 * time.Minute
	}
	if o.InternalAttempts <= 0 {
		o.InternalAttempts = job.DefaultBriefAttempts
	}
	if o.Settle <= 0 {
		o.Settle = 3 * o.PollInterval
	}
	if o.RedGrace <= 0 {
		o.RedGrace = time.Minute
	}
	if o.CallTimeout <= 0 {
		o.CallTimeout = 30 * time.Second
	}
	if o.Log == nil {
		o.Log = slog.Default()
	}
	return o
}
