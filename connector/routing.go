package connector

import (
	"fmt"
	"strings"

	"github.com/seed-a550a1ef/kafka-qdrant/config"
	"github.com/seed-a550a1ef/kafka-qdrant/schemas"
)

// router picks the collection of a record and the format of its topic.
// The collection: the record's collection_name override (when allowed,
// the decoder drops it otherwise), then config.Routing.Route. The
// format: routing.topics[topic].format, then record.format.
type router struct {
	routing config.Routing
	format  schemas.Format            // record.format
	formats map[string]schemas.Format // routing.topics overrides
}

func newRouter(r config.Routing, rec config.Record) (router, error) {
	rt := router{routing: r, formats: make(map[string]schemas.Format)}
	var err error
	if rt.format, err = schemas.ParseFormat(rec.Format); err != nil {
		return router{}, fmt.Errorf("record.format: %w", err)
	}
	for topic, route := range r.Topics {
		if route.Format == "" {
			continue
		}
		if rt.formats[topic], err = schemas.ParseFormat(route.Format); err != nil {
			return router{}, fmt.Errorf("routing.topics.%s.format: %w", topic, err)
		}
	}
	return rt, nil
}

func (r router) collection(topic, override string) (string, error) {
	if override != "" {
		if err := validCollectionName(override); err != nil {
			return "", err
		}
	}
	return r.routing.Route(topic, override), nil
}

// formatOf returns the record format of topic.
func (r router) formatOf(topic string) schemas.Format {
	if f, ok := r.formats[topic]; ok {
		return f
	}
	return r.format
}

// usesRegistry reports whether some topic may be in the registry format.
func (r router) usesRegistry() bool {
	if r.format == schemas.FormatRegistry {
		return true
	}
	for _, f := range r.formats {
		if f == schemas.FormatRegistry {
			return true
		}
	}
	return false
}

// validCollectionName applies Qdrant's rule (lib/collection validation):
// 1..255 bytes, none of  < > : " / \ | ? * and no NUL.
func validCollectionName(name string) error {
	if name == "" || len(name) > 255 {
		return schemas.NewRecordError(schemas.ClassValidate, schemas.StageRoute,
			"collection_name: must be 1 to 255 bytes, got %d", len(name))
	}
	if i := strings.IndexAny(name, "<>:\"/\\|?*\x00"); i >= 0 {
		return schemas.NewRecordError(schemas.ClassValidate, schemas.StageRoute,
			"collection_name: %q contains the forbidden character %q", name, name[i])
	}
	return nil
}

// decoderConfig is the record decoder's configuration of the record and
// routing sections (the field names and key rule of every format).
func decoderConfig(rec config.Record, routing config.Routing) (schemas.DecoderConfig, error) {
	keyID, err := schemas.ParseKeyIDRule(rec.KeyID)
	if err != nil {
		return schemas.DecoderConfig{}, fmt.Errorf("key_id: %w", err)
	}
	dc := schemas.DecoderConfig{
		IDField:                 rec.IDField,
		VectorField:             rec.VectorField,
		PayloadField:            rec.PayloadField,
		CollectionField:         rec.CollectionField,
		DeleteField:             rec.DeleteField,
		KeyID:                   keyID,
		AllowCollectionOverride: routing.AllowRecordOverride,
		MaxBytes:                int(rec.MaxBytes),
	}
	return dc, dc.Validate()
}
