package connector

import (
	"fmt"
	"strings"

	"github.com/seed-a550a1ef/kafka-qdrant/config"
	"github.com/seed-a550a1ef/kafka-qdrant/schemas"
)

// router picks the collection of a record by the routing rule of
// config.Routing.Route (the one rule the restore's replay and validate
// follow too): the record's collection_name override (when allowed, the
// decoder drops it otherwise), then routing.topics[topic], then
// routing.collection, then the topic name. An override must be a valid
// collection name.
type router struct{ routing config.Routing }

func newRouter(r config.Routing) router { return router{routing: r} }

func (r router) collection(topic, override string) (string, error) {
	if override != "" {
		if err := validCollectionName(override); err != nil {
			return "", err
		}
	}
	return r.routing.Route(topic, override), nil
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

// decoderConfig is DecoderConfig under the name the connector uses.
func decoderConfig(rec config.Record, routing config.Routing) (schemas.DecoderConfig, error) {
	return DecoderConfig(rec, routing)
}

// DecoderConfig is the record decoder's configuration of the record and
// routing sections: how the data path decodes records, and so how a
// restore's replay must decode them.
func DecoderConfig(rec config.Record, routing config.Routing) (schemas.DecoderConfig, error) {
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
