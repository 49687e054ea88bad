package validate

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"

	"github.com/seed-a550a1ef/kafka-qdrant/config"
	"github.com/seed-a550a1ef/kafka-qdrant/internal/kafkaclient"
	"github.com/seed-a550a1ef/kafka-qdrant/schemas/registry"
	"github.com/seed-a550a1ef/kafka-qdrant/sink"
)

// reporter prints one line per check and collects the failures.
type reporter struct {
	out  io.Writer
	errs []error
}

func (r *reporter) ok(what, format string, args ...any) {
	fmt.Fprintf(r.out, "ok   %-11s %s\n", what, fmt.Sprintf(format, args...))
}

// warn reports a problem that does not stop a replica (nor fails
// validate).
func (r *reporter) warn(what, format string, args ...any) {
	fmt.Fprintf(r.out, "WARN %-11s %s\n", what, fmt.Sprintf(format, args...))
}

func (r *reporter) fail(what string, err error) {
	fmt.Fprintf(r.out, "FAIL %-11s %v\n", what, err)
	r.errs = append(r.errs, fmt.Errorf("%s: %w", what, err))
}

// result reports detail when err is nil, else the failure.
func (r *reporter) result(what, detail string, err error) {
	if err != nil {
		r.fail(what, err)
		return
	}
	r.ok(what, "%s", detail)
}

func (r *reporter) err() error { return errors.Join(r.errs...) }

// Check reaches every dependency and prints one line per check to out (see
// the package doc). It returns an error naming every failed check.
func Check(ctx context.Context, cfg config.Config, out io.Writer, log *slog.Logger) error {
	r := &reporter{out: out}
	topics, reached := checkKafka(ctx, cfg, r)
	if !reached && cfg.Kafka.TopicRegex == "" {
		topics = cfg.Kafka.Topics
	}
	checkQdrant(ctx, cfg, topics, r)
	if cfg.Backup.Store != "" {
		detail, err := checkBackupStore(ctx, cfg.Backup)
		r.result("backup", detail, err)
	}
	if cfg.SchemaRegistry.URL != "" {
		detail, err := checkRegistry(ctx, cfg.SchemaRegistry)
		r.result("registry", detail, err)
	}
	if err := r.err(); err != nil {
		log.Debug("validate failed", "err", err)
		return err
	}
	return nil
}

// Offline checks what can be checked without dialing anything, for a config
// that passed Config.Validate: the Kafka client options (TLS files, SASL)
// and the Qdrant client (address, TLS) build as a replica builds them.
func Offline(cfg config.Config, out io.Writer) error {
	r := &reporter{out: out}
	r.ok("config", "valid")
	if _, err := kafkaclient.Options(cfg.Kafka); err != nil {
		r.fail("kafka", err)
	} else {
		r.ok("kafka", "%s%s (not dialled)", strings.Join(cfg.Kafka.Brokers, ","), describeKafkaAuth(cfg.Kafka))
	}
	qc, err := sink.NewClient(cfg.Qdrant)
	if err != nil {
		r.fail("qdrant", err)
	} else {
		qc.Close()
		key := ""
		if cfg.Qdrant.APIKey != "" {
			key = ", API key set"
		}
		r.ok("qdrant", "%s%s (not dialled)", cfg.Qdrant.GRPC, key)
	}
	if cfg.Backup.Store != "" {
		r.ok("backup", "%s (not reached)", cfg.Backup.Store)
	}
	if cfg.SchemaRegistry.URL != "" {
		if _, err := registry.FromConfig(cfg.SchemaRegistry, nil); err != nil {
			r.fail("registry", err)
		} else {
			r.ok("registry", "%s%s (not dialled)", cfg.SchemaRegistry.URL, describeRegistryAuth(cfg.SchemaRegistry))
		}
	}
	return r.err()
}

func describeKafkaAuth(k config.Kafka) string {
	var parts []string
	if k.TLS.Enabled {
		parts = append(parts, "TLS")
	}
	if k.SASL.Mechanism != "" {
		parts = append(parts, fmt.Sprintf("SASL %s as %q", strings.ToUpper(k.SASL.Mechanism), k.SASL.Username))
	}
	if len(parts) == 0 {
		return ""
	}
	return ", " + strings.Join(parts, ", ")
}
