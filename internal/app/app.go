// Package app wires one replica together from a validated config: the
// Qdrant client and writer, the data connector, the control plane and the
// observability server, whose /readyz joins the connector's and the
// control runner's state and the credential checks of readiness.go. cmd/kafka-qdrant and the dev
// environment call Run; nothing else lives here.
package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/seed-a550a1ef/kafka-qdrant/config"
	"github.com/seed-a550a1ef/kafka-qdrant/connector"
	"github.com/seed-a550a1ef/kafka-qdrant/control"
	"github.com/seed-a550a1ef/kafka-qdrant/control/backup"
	"github.com/seed-a550a1ef/kafka-qdrant/control/job"
	"github.com/seed-a550a1ef/kafka-qdrant/internal/httpserver"
	"github.com/seed-a550a1ef/kafka-qdrant/internal/kafkaclient"
	"github.com/seed-a550a1ef/kafka-qdrant/internal/readiness"
	"github.com/seed-a550a1ef/kafka-qdrant/schemas"
	"github.com/seed-a550a1ef/kafka-qdrant/schemas/registry"
	"github.com/seed-a550a1ef/kafka-qdrant/sink"
)

// errAborted is Run's error when the hard context ended the drain early.
var errAborted = errors.New("stopped by a second signal before the drain finished: batches in flight were abandoned, not committed (nothing is lost; they are read again)")

// Options are what Run needs besides the config.
type Options struct {
	Config config.Config
	Logger *slog.Logger
	// ExtraKafkaOpts are appended to the Kafka client options (tests).
	ExtraKafkaOpts []kgo.Opt
	// OnListening, if set, is called with the bound http address.
	OnListening func(addr string)
}

// Run runs one replica until ctx ends, then drains within
// shutdown.timeout: the connector's flush, its last commit and the control
// plane's stop all end by that deadline (the control runner must return
// from Run within it once its context ends; Run does not wait for it any
// longer). When hard ends (second signal) in-flight work is abandoned at
// once. It returns nil after a clean drain.
func Run(ctx, hard context.Context, o Options) error {
	cfg := o.Config
	log := o.Logger
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))

	qc, err := sink.NewClient(cfg.Qdrant)
	if err != nil {
		return fmt.Errorf("qdrant client: %w", err)
	}
	if sink.PlaintextAPIKey(cfg.Qdrant) {
		log.Warn("qdrant.api_key is sent without TLS and can be read on the network path; set qdrant.tls.enabled or an https:// qdrant.grpc address")
	}
	defer qc.Close()
	wcfg := sink.WriterConfig{
		Retry:           cfg.Qdrant.Retry,
		Timeout:         cfg.Qdrant.Timeout,
		MaxRequestBytes: int(cfg.Qdrant.MaxRequestBytes),
		Logger:          log.With("component", "sink"),
		Registerer:      reg,
		Fencing:         cfg.Qdrant.Fencing,
		FencingEpoch:    cfg.Qdrant.FencingEpoch,
	}
	if cfg.Qdrant.Fencing {
		// An older Qdrant ignores update_filter: refuse to start rather than
		// fence nothing. Waits (retrying) while Qdrant is unreachable.
		version, err := sink.CheckServer(ctx, qc.GetQdrantClient(), wcfg)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
		log.Info("qdrant supports fencing", "version", version, "fencing_epoch", cfg.Qdrant.FencingEpoch)
	}
	writer := sink.NewWriter(sink.PooledPoints(qc), qc.GetCollectionsClient(), wcfg)

	var schemaSource schemas.SchemaSource
	if cfg.SchemaRegistry.URL != "" {
		rc, err := registry.FromConfig(cfg.SchemaRegistry, reg)
		if err != nil {
			return err
		}
		schemaSource = rc
	}

	kopts, err := kafkaclient.Options(cfg.Kafka)
	if err != nil {
		return err
	}
	kopts = append(kopts, o.ExtraKafkaOpts...)
	var runner *control.Runner
	var scheduler *backup.Scheduler
	if cfg.Control.Enabled {
		var handlers map[schemas.CommandType]job.Handler
		handlers, scheduler, err = backupParts(ctx, backup.Options{
			Config: cfg, Qdrant: qc, KafkaOpts: kopts, Writer: writer, Schemas: schemaSource,
			Registerer: reg, Log: log.With("component", "backup"),
		})
		if err != nil {
			return err
		}
		var ownerTasks []control.OwnerTask
		if scheduler != nil {
			// Only the owner of the control partition sends the
			// scheduled commands (their ids per slot make a second
			// sender harmless, not useful).
			ownerTasks = append(ownerTasks, control.OwnerTask{Name: "backup schedule", Run: scheduler.Run})
		}
		runner, err = control.NewRunner(control.RunnerConfig{
			Config:     cfg,
			KafkaOpts:  kopts,
			Qdrant:     qc,
			Registerer: reg,
			Logger:     log,
			Handlers:   handlers,
			OwnerTasks: ownerTasks,
		})
		if err != nil {
			return err
		}
	}

	// Every replica's data path honours the data pauses of restores that
	// switch an alias (control.Runner follows the status topic).
	var pauses connector.PauseSource
	if runner != nil {
		pauses = runner
	}
	conn, err := connector.New(connector.Config{
		Kafka:        cfg.Kafka,
		Routing:      cfg.Routing,
		Record:       cfg.Record,
		Batch:        cfg.Batch,
		ClientOpts:   kopts,
		Sink:         writer,
		Schemas:      schemaSource,
		Logger:       log.With("component", "connector"),
		Registerer:   reg,
		DrainTimeout: cfg.Shutdown.Timeout,
		Pauses:       pauses,
	})
	if err != nil {
		return err
	}

	checks, closeChecks, err := credentialChecks(cfg, qc, kopts)
	if err != nil {
		return err
	}
	defer closeChecks()
	prober := readiness.New(readinessInterval, readinessTimeout, log.With("component", "readiness"), checks...)
	ready := []httpserver.ReadyFunc{conn.Ready, prober.Ready}
	if runner != nil {
		ready = append(ready, runner.Ready)
	}
	hs, err := httpserver.New(cfg.HTTP.Listen, reg, log, ready...)
	if err != nil {
		return err
	}
	if o.OnListening != nil {
		o.OnListening(hs.Addr())
	}
	httpCtx, stopHTTP := context.WithCancel(context.Background())
	defer stopHTTP()
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		if err := hs.Run(httpCtx); err != nil {
			log.Error("http server", "err", err)
		}
	}()
	go func() { defer wg.Done(); prober.Run(httpCtx) }()

	go func() {
		select {
		case <-hard.Done():
			conn.Abort()
			if runner != nil {
				runner.Abort()
			}
		case <-httpCtx.Done():
		}
	}()

	log.Info("kafka-qdrant running", "brokers", cfg.Kafka.Brokers, "group", cfg.Kafka.Group,
		"topics", cfg.Kafka.Topics, "topic_regex", cfg.Kafka.TopicRegex, "qdrant", cfg.Qdrant.GRPC,
		"dlq_topic", cfg.Kafka.DLQTopic, "http", hs.Addr())
	// The control runner stops with the connector: a control plane
	// failure ends the replica too (and vice versa), so an orchestrator
	// restarts it whole.
	runCtx, stopRun := context.WithCancel(ctx)
	defer stopRun()
	var controlErr error
	if runner != nil {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if controlErr = runner.Run(runCtx); controlErr != nil {
				log.Error("control plane stopped", "err", controlErr)
			}
			stopRun()
		}()
	}
	// The whole shutdown is bounded by shutdown.timeout from the moment
	// the replica starts stopping: the connector bounds its own drain
	// (DrainTimeout), and the control runner gets what is left of the
	// same deadline; past it, Run returns without waiting any longer.
	stopBy := make(chan time.Time, 1)
	context.AfterFunc(runCtx, func() { stopBy <- time.Now().Add(cfg.Shutdown.Timeout) })
	runErr := conn.Run(runCtx)
	stopRun()
	stopHTTP()
	stopped := make(chan struct{})
	go func() { wg.Wait(); close(stopped) }()
	deadline := time.NewTimer(time.Until(<-stopBy))
	defer deadline.Stop()
	select {
	case <-stopped:
	case <-hard.Done():
		// The control plane may still be handing over; a second signal
		// does not wait for it.
	case <-deadline.C:
		return errors.Join(runErr, fmt.Errorf("shutdown.timeout (%s) passed before the control plane stopped; exiting without it", cfg.Shutdown.Timeout))
	}
	if hard.Err() != nil {
		return errAborted
	}
	if err := errors.Join(runErr, controlErr); err != nil && !errors.Is(err, context.Canceled) {
		return err
	}
	log.Info("kafka-qdrant stopped")
	return nil
}
