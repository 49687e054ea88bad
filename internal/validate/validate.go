// Package validate is `kafka-qdrant validate`: with a config that already
// passed Config.Validate, reach Kafka, Qdrant and the backup store and say
// what was found.
package validate

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"os"
	"strings"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/seed-a550a1ef/kafka-qdrant/config"
	"github.com/seed-a550a1ef/kafka-qdrant/internal/kafkaclient"
	"github.com/seed-a550a1ef/kafka-qdrant/sink"
)

// Check reaches every dependency and prints one line per check to out. It
// returns an error naming every failed check.
func Check(ctx context.Context, cfg config.Config, out io.Writer, log *slog.Logger) error {
	var errs []error
	report := func(what string, err error, detail string) {
		if err != nil {
			fmt.Fprintf(out, "FAIL %-8s %v\n", what, err)
			errs = append(errs, fmt.Errorf("%s: %w", what, err))
			return
		}
		fmt.Fprintf(out, "ok   %-8s %s\n", what, detail)
	}

	detail, err := checkKafka(ctx, cfg)
	report("kafka", err, detail)
	detail, err = checkQdrant(ctx, cfg)
	report("qdrant", err, detail)
	if cfg.Backup.Store != "" {
		detail, err = checkBackupStore(cfg.Backup)
		report("backup", err, detail)
	}
	return errors.Join(errs...)
}

func checkKafka(ctx context.Context, cfg config.Config) (string, error) {
	opts, err := kafkaclient.Options(cfg.Kafka)
	if err != nil {
		return "", err
	}
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		return "", err
	}
	defer cl.Close()
	if err := kafkaclient.Ping(ctx, cl); err != nil {
		return "", err
	}
	adm := kadm.NewClient(cl)
	topics, err := adm.ListTopics(ctx)
	if err != nil {
		return "", fmt.Errorf("listing topics: %w", err)
	}
	var missing []string
	for _, t := range cfg.Kafka.Topics {
		if !topics.Has(t) {
			missing = append(missing, t)
		}
	}
	if cfg.Kafka.DLQTopic != "" && !topics.Has(cfg.Kafka.DLQTopic) {
		missing = append(missing, cfg.Kafka.DLQTopic+" (kafka.dlq_topic)")
	}
	if len(missing) > 0 {
		return "", fmt.Errorf("topics not found: %s", strings.Join(missing, ", "))
	}
	return fmt.Sprintf("%s reachable, topics present", strings.Join(cfg.Kafka.Brokers, ",")), nil
}

func checkQdrant(ctx context.Context, cfg config.Config) (string, error) {
	qc, err := sink.NewClient(cfg.Qdrant)
	if err != nil {
		return "", err
	}
	defer qc.Close()
	h, err := qc.HealthCheck(ctx)
	if err != nil {
		return "", fmt.Errorf("health check %s: %w", cfg.Qdrant.GRPC, err)
	}
	return fmt.Sprintf("%s reachable, version %s", cfg.Qdrant.GRPC, h.GetVersion()), nil
}

func checkBackupStore(b config.Backup) (string, error) {
	u, err := url.Parse(b.Store)
	if err != nil {
		return "", fmt.Errorf("backup.store: %w", err)
	}
	switch u.Scheme {
	case "file":
		st, err := os.Stat(u.Path)
		if errors.Is(err, os.ErrNotExist) {
			return fmt.Sprintf("%s does not exist yet; it will be created", u.Path), nil
		}
		if err != nil {
			return "", err
		}
		if !st.IsDir() {
			return "", fmt.Errorf("backup.store: %s is not a directory", u.Path)
		}
		return u.Path + " is a directory", nil
	case "s3":
		return "s3 store configured (reachability is checked by the backup commands)", nil
	}
	return "", fmt.Errorf("backup.store: unsupported scheme %q", u.Scheme)
}
