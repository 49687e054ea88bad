package control

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/seed-a550a1ef/kafka-qdrant/config"
	"github.com/seed-a550a1ef/kafka-qdrant/control/auth"
	"github.com/seed-a550a1ef/kafka-qdrant/control/index"
	"github.com/seed-a550a1ef/kafka-qdrant/control/job"
	"github.com/seed-a550a1ef/kafka-qdrant/schemas"
)

// RunnerConfig configures a Runner. Config, KafkaOpts and Qdrant are
// required; every other zero field means its default.
type RunnerConfig struct {
	// Config is the replica's configuration: kafka.group (the control group
	// and the status producer's transactional id are "<group>.control"),
	// kafka.session_timeout, control.topic, control.status_topic,
	// control.status_retention,
	// qdrant.rest, qdrant.api_key, qdrant.tls, qdrant.timeout,
	// qdrant.retry and shutdown.timeout are used.
	Config config.Config
	// KafkaOpts are the connection options (seed brokers, TLS, SASL), e.g.
	// from kafkaclient.Options(cfg.Kafka). The runner adds its own
	// consumer, group and producer options.
	KafkaOpts []kgo.Opt
	// Qdrant is the gRPC client of the index handlers (*qdrant.Client).
	Qdrant index.Collections
	// Optimizations reads Qdrant's optimizer activity; default: the REST
	// endpoint at Config.Qdrant.REST (skipped when that is empty).
	Optimizations index.Optimizations
	// HTTPClient is used for Qdrant's REST API; default: a client with
	// Config.Qdrant.TLS.
	HTTPClient *http.Client
	// Registerer receives the metrics; default: a private registry.
	Registerer prometheus.Registerer
	// Logger defaults to slog.Default().
	Logger *slog.Logger
	// Replica names this replica in status events; default: the host name.
	Replica string
	// Handlers add or replace command handlers by type (backup, restore,
	// ... in later versions). Known types without a handler fail with
	// code unsupported.
	Handlers map[schemas.CommandType]job.Handler
	// Clock is the handlers' and the status events' time source.
	Clock job.Clock
	// ProgressInterval is the least time between two progress events of a
	// command (default 2s; changes in between are dropped, the next one
	// after it is published). Negative publishes every change.
	ProgressInterval time.Duration
	// PollInterval and MaxPollInterval space index_build's polls (default
	// 1s growing to 15s).
	PollInterval, MaxPollInterval time.Duration
	// HandoverTimeout bounds how long a stopping or revoked runner waits
	// for its commands to stop (default Config.Shutdown.Timeout, else 30s).
	HandoverTimeout time.Duration
	// StatusRetention is how long a finished command stays on the status
	// topic before the owner tombstones it (default
	// Config.Control.StatusRetention; negative: never).
	StatusRetention time.Duration
	// SweepInterval spaces the retention sweeps (default 1h; one also
	// runs whenever a replica takes the control partition over).
	SweepInterval time.Duration

	// verifier checks signed commands (Config.Control.Auth); nil when
	// control.auth has no keys. Set by withDefaults.
	verifier *auth.Verifier
}

func (c RunnerConfig) withDefaults() (RunnerConfig, error) {
	switch {
	case len(c.KafkaOpts) == 0:
		return c, errors.New("control runner: KafkaOpts are required")
	case c.Qdrant == nil:
		return c, errors.New("control runner: a Qdrant client is required")
	case c.Config.Control.Topic == "" || c.Config.Control.StatusTopic == "":
		return c, errors.New("control runner: control.topic and control.status_topic must be set")
	case c.Config.Kafka.Group == "":
		return c, errors.New("control runner: kafka.group must be set")
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.Registerer == nil {
		c.Registerer = prometheus.NewRegistry()
	}
	if c.Replica == "" {
		c.Replica, _ = os.Hostname()
		if c.Replica == "" {
			c.Replica = "kafka-qdrant"
		}
	}
	if c.Clock == nil {
		c.Clock = job.RealClock
	}
	if c.ProgressInterval == 0 {
		c.ProgressInterval = 2 * time.Second
	}
	if c.HandoverTimeout <= 0 {
		c.HandoverTimeout = c.Config.Shutdown.Timeout
	}
	if c.HandoverTimeout <= 0 {
		c.HandoverTimeout = 30 * time.Second
	}
	if c.StatusRetention == 0 {
		c.StatusRetention = c.Config.Control.StatusRetention
	}
	if c.SweepInterval <= 0 {
		c.SweepInterval = time.Hour
	}
	v, err := auth.New(c.Config.Control.Auth)
	if err != nil {
		return c, fmt.Errorf("control runner: %w", err)
	}
	c.verifier = v
	if v != nil {
		if idle := v.Idle(); len(idle) > 0 {
			c.Logger.Warn("control.auth keys without control.auth.commands may send no command", "keys", idle)
		}
	}
	if c.Optimizations == nil && c.Config.Qdrant.REST != "" {
		hc := c.HTTPClient
		if hc == nil {
			tlsCfg, err := c.Config.Qdrant.TLS.Build()
			if err != nil {
				return c, err
			}
			tr := http.DefaultTransport.(*http.Transport).Clone()
			tr.TLSClientConfig = tlsCfg
			hc = &http.Client{Transport: tr, Timeout: c.Config.Qdrant.Timeout}
		}
		c.Optimizations = &index.RESTOptimizations{BaseURL: c.Config.Qdrant.REST, APIKey: c.Config.Qdrant.APIKey.Reveal(), Client: hc}
	}
	return c, nil
}

// Group is the consumer group of the control topic for a data group.
func Group(dataGroup string) string { return dataGroup + ".control" }
