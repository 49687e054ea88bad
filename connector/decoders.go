package connector

import (
	"errors"
	"fmt"

	"github.com/seed-a550a1ef/kafka-qdrant/config"
	"github.com/seed-a550a1ef/kafka-qdrant/schemas"
)

// Decoders makes the data path's record decoders: for each topic, one of
// its format (routing.topics.<topic>.format, else record.format) with the
// record section's field names and key rule, all sharing the Schema
// Registry's schemas. The connector's partitions and a restore's replay
// decode with them, so a replayed record reads exactly as the data path
// read it.
type Decoders struct {
	router router
	cfg    schemas.DecoderConfig
	// cache holds the registry's schemas (nil without a registry).
	cache *schemas.SchemaCache
}

// NewDecoders checks the record and routing sections and returns the
// decoders they describe. src finds the schemas of registry-format topics;
// it may be nil when no topic uses the registry format.
func NewDecoders(rec config.Record, routing config.Routing, src schemas.SchemaSource) (*Decoders, error) {
	cfg, err := decoderConfig(rec, routing)
	if err != nil {
		return nil, fmt.Errorf("record: %w", err)
	}
	rt, err := newRouter(routing, rec)
	if err != nil {
		return nil, err
	}
	d := &Decoders{router: rt, cfg: cfg}
	switch {
	case src != nil:
		d.cache = schemas.NewSchemaCache(src, cfg)
	case rt.usesRegistry():
		return nil, errors.New("a topic is in the registry format but no Schema Registry (schema_registry.url) is configured")
	}
	return d, nil
}

// For returns a new decoder for the records of topic. A decoder is not safe
// for concurrent use: one per goroutine.
func (d *Decoders) For(topic string) *schemas.FormatDecoder {
	return schemas.NewFormatDecoder(d.router.formatOf(topic), d.cfg, d.cache)
}
