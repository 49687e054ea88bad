package backup

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/qdrant/go-client/qdrant"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/seed-a550a1ef/kafka-qdrant/config"
	"github.com/seed-a550a1ef/kafka-qdrant/control/backup/store"
	"github.com/seed-a550a1ef/kafka-qdrant/control/job"
	"github.com/seed-a550a1ef/kafka-qdrant/schemas"
	"github.com/seed-a550a1ef/kafka-qdrant/sink"
)

// Qdrant is the part of Qdrant's gRPC API the handlers use;
// *qdrant.Client implements it.
type Qdrant interface {
	CollectionExists(ctx context.Context, name string) (bool, error)
	DeleteCollection(ctx context.Context, name string) error
	ListAliases(ctx context.Context) ([]*qdrant.AliasDescription, error)
	UpdateAliases(ctx context.Context, actions []*qdrant.AliasOperations) error
}

// Writer applies replayed records to a collection; *sink.Writer
// implements it (the data path's own writer, with its fencing).
type Writer interface {
	Write(ctx context.Context, collection string, ops []sink.Op) ([]sink.Rejected, error)
}

// Options configure the handlers. Config, Qdrant and KafkaOpts are
// required; Store may be nil (no backup.store: every command fails
// unsupported); the zero value of every other field means its default.
type Options struct {
	// Config is the replica's configuration: backup.*, qdrant.rest and
	// qdrant.nodes (the nodes), kafka.group and the topics (offsets),
	// routing and record (replay).
	Config config.Config
	// Store is the backup store (store.Open(ctx, Config.Backup)).
	Store store.Store
	// Nodes are the Qdrant nodes' REST clients; default: one per
	// qdrant.nodes URL, else qdrant.rest.
	Nodes []*sink.SnapshotClient
	// Qdrant is the gRPC client (collections, aliases).
	Qdrant Qdrant
	// KafkaOpts connect to the brokers (seed brokers, TLS, SASL); the
	// handlers add their own consumer options.
	KafkaOpts []kgo.Opt
	// Writer applies replayed records; required for restore with replay.
	Writer Writer
	// Schemas finds the Schema Registry's schemas for the replay of
	// registry-format topics (nil without schema_registry.url).
	Schemas schemas.SchemaSource
	// Replica names this replica in manifests.
	Replica string
	// Clock defaults to job.RealClock.
	Clock job.Clock
	// Registerer receives the metrics; default: a private registry.
	Registerer prometheus.Registerer
	// Log defaults to slog.Default().
	Log *slog.Logger
	// RetryFor is how long a step may keep failing transiently before the
	// command fails (default 5m); RetryInitial and RetryMax bound the
	// backoff between attempts (default 500ms and 30s).
	RetryFor, RetryInitial, RetryMax time.Duration
	// CheckpointEvery spaces replay checkpoints (default 5s).
	CheckpointEvery time.Duration
	// PauseTimeout bounds the data path pause of an alias switch
	// (default 2m): waiting for every partition to acknowledge it, the
	// replay up to the acknowledged offsets and the switch. The pause
	// lapses 30s after it on every replica, whatever happens.
	PauseTimeout time.Duration
}

func (o Options) withDefaults() (Options, error) {
	if o.Qdrant == nil {
		return o, errors.New("backup handlers: a Qdrant client is required")
	}
	if len(o.KafkaOpts) == 0 {
		return o, errors.New("backup handlers: KafkaOpts are required")
	}
	if o.Nodes == nil {
		urls := o.Config.Qdrant.Nodes
		if len(urls) == 0 {
			urls = []string{o.Config.Qdrant.REST}
		}
		for _, u := range urls {
			c, err := sink.NewSnapshotClient(u, o.Config.Qdrant)
			if err != nil {
				return o, err
			}
			o.Nodes = append(o.Nodes, c)
		}
	}
	if len(o.Nodes) == 0 {
		return o, errors.New("backup handlers: no Qdrant node")
	}
	if o.Clock == nil {
		o.Clock = job.RealClock
	}
	if o.Registerer == nil {
		o.Registerer = prometheus.NewRegistry()
	}
	if o.Log == nil {
		o.Log = slog.Default()
	}
	if o.RetryFor <= 0 {
		o.RetryFor = 5 * time.Minute
	}
	if o.RetryInitial <= 0 {
		o.RetryInitial = 500 * time.Millisecond
	}
	if o.RetryMax <= 0 {
		o.RetryMax = 30 * time.Second
	}
	if o.CheckpointEvery <= 0 {
		o.CheckpointEvery = 5 * time.Second
	}
	if o.PauseTimeout <= 0 {
		o.PauseTimeout = 2 * time.Minute
	}
	return o, nil
}

// retry runs op until it succeeds, fails in a way not retried, its
// retries run out (classify: transient failures after RetryFor, Qdrant's
// Internal after job.DefaultBriefAttempts attempts), or ctx ends. A retry
// waits at least Qdrant's retry-after. The error is the command's (fail).
func (o Options) retry(ctx context.Context, what string, op func(ctx context.Context) error) error {
	b := job.Budget{Backoff: job.Backoff{Initial: o.RetryInitial, Max: o.RetryMax},
		RetryFor: o.RetryFor, BriefAttempts: job.DefaultBriefAttempts}
	for {
		err := op(ctx)
		if err == nil {
			return nil
		}
		if ctx.Err() != nil {
			return context.Cause(ctx)
		}
		p := classify(err)
		now := o.Clock.Now()
		d, ok := b.Next(now, p)
		if !ok {
			if b.Failures() > 1 {
				what = fmt.Sprintf("%s (failing for %s, %d attempts)", what, b.Failing(now).Round(time.Millisecond), b.Failures())
			}
			return p.Errorf("%s: %w", what, err)
		}
		o.Log.Warn("backup step failed, retrying", "step", what, "attempt", b.Failures(), "backoff", d, "err", err)
		if err := job.Sleep(ctx, o.Clock, d); err != nil {
			return err
		}
	}
}
