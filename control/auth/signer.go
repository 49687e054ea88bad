package auth

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/seed-a550a1ef/kafka-qdrant/config"
)

// Signer signs commands with one key (ctl).
type Signer struct {
	id     string
	secret []byte
}

// NewSigner returns the Signer of key id from cfg; with id "" the only key
// of cfg. It returns nil, nil when cfg has no keys and id is "".
func NewSigner(cfg config.ControlAuth, id string) (*Signer, error) {
	if id == "" {
		switch len(cfg.Keys) {
		case 0:
			return nil, nil
		case 1:
			for k := range cfg.Keys {
				id = k
			}
		default:
			return nil, fmt.Errorf("control.auth.keys has %d keys (%s): choose the one to sign with (--key)",
				len(cfg.Keys), strings.Join(slices.Sorted(maps.Keys(cfg.Keys)), ", "))
		}
	}
	s, ok := cfg.Keys[id]
	if !ok || s.Reveal() == "" {
		return nil, fmt.Errorf("no secret for key %q: set control.auth.keys.%s (or KQ__CONTROL__AUTH__KEYS__%s)", id, id, strings.ToUpper(id))
	}
	return &Signer{id: id, secret: []byte(s.Reveal())}, nil
}

// KeyID is the id of the signing key.
func (s *Signer) KeyID() string { return s.id }

// Sign sets "issued_at" to now in the JSON object value when it has none
// (an issued_at the sender chose is kept) and returns the value to send and
// the headers that sign it. The value must carry its "id".
func (s *Signer) Sign(value []byte, now time.Time) ([]byte, []kgo.RecordHeader, error) {
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(value, &obj); err != nil {
		return nil, nil, fmt.Errorf("signing: the command is not a JSON object: %w", err)
	}
	if _, ok := obj["id"]; !ok {
		return nil, nil, fmt.Errorf("signing: the command has no \"id\" (the signature must cover it)")
	}
	if _, ok := obj["issued_at"]; !ok {
		ts, _ := json.Marshal(now.UTC().Truncate(time.Second).Format(time.RFC3339))
		obj["issued_at"] = ts
		var err error
		if value, err = json.Marshal(obj); err != nil {
			return nil, nil, err
		}
	}
	return value, []kgo.RecordHeader{
		{Key: HeaderKey, Value: []byte(s.id)},
		{Key: HeaderSignature, Value: []byte(Sign(s.secret, value))},
	}, nil
}
