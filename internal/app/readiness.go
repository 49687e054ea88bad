package app

import (
	"context"
	"time"

	"github.com/qdrant/go-client/qdrant"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/seed-a550a1ef/kafka-qdrant/config"
	"github.com/seed-a550a1ef/kafka-qdrant/internal/kafkaclient"
	"github.com/seed-a550a1ef/kafka-qdrant/internal/readiness"
	"github.com/seed-a550a1ef/kafka-qdrant/internal/validate"
)

// How often a replica checks that Qdrant and Kafka answer and accept its
// credentials, and the bound of one check (internal/readiness).
const (
	readinessInterval = 15 * time.Second
	readinessTimeout  = 10 * time.Second
)

// credentialChecks are the readiness checks besides the connector's own:
// an authenticated Qdrant call (the one `validate` makes) and a Kafka ping
// (TLS and SASL) on a client of its own. close releases that client.
func credentialChecks(cfg config.Config, qc *qdrant.Client, kopts []kgo.Opt) (checks []readiness.Check, close func(), err error) {
	cl, err := kgo.NewClient(kopts...)
	if err != nil {
		return nil, nil, err
	}
	return []readiness.Check{
		{Name: "qdrant", Run: func(ctx context.Context) error {
			return validate.QdrantCredentials(ctx, qc.GetCollectionsClient(), cfg.Qdrant)
		}},
		{Name: "kafka", Run: func(ctx context.Context) error { return kafkaclient.Ping(ctx, cl) }},
	}, cl.Close, nil
}
