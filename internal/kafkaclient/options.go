package kafkaclient

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sasl"
	"github.com/twmb/franz-go/pkg/sasl/plain"
	"github.com/twmb/franz-go/pkg/sasl/scram"

	"github.com/seed-a550a1ef/kafka-qdrant/config"
)

// Options returns the franz-go options that connect a client as k
// describes: kgo.SeedBrokers(k.Brokers), kgo.ClientID(k.ClientID),
// kgo.DialTimeout(k.DialTimeout) when positive, kgo.DialTLSConfig when
// k.TLS.Enabled (TLS.Build; the server name defaults to the dialled broker
// host), and kgo.SASL when k.SASL.Mechanism is set (case-insensitive: PLAIN,
// SCRAM-SHA-256 or SCRAM-SHA-512; with it a hook that lets Ping report a
// broker that hangs up during authentication as an authentication failure).
//
// It adds no consumer, group or producer option (topics, group, fetch
// sizes, commit, acks): callers append their own. The input is expected to
// have passed config.Validate; Options still returns an error, naming the
// key, for the inputs it cannot turn into a working client (no brokers, TLS
// files that do not load, an unknown SASL mechanism).
func Options(k config.Kafka) ([]kgo.Opt, error) {
	if len(k.Brokers) == 0 {
		return nil, errors.New("kafka.brokers: must not be empty")
	}
	opts := []kgo.Opt{kgo.SeedBrokers(k.Brokers...)}
	if k.ClientID != "" {
		opts = append(opts, kgo.ClientID(k.ClientID))
	}
	if k.DialTimeout > 0 {
		opts = append(opts, kgo.DialTimeout(k.DialTimeout))
	}
	tlsCfg, err := k.TLS.Build()
	if err != nil {
		return nil, fmt.Errorf("kafka.tls: %w", err)
	}
	if tlsCfg != nil {
		opts = append(opts, kgo.DialTLSConfig(tlsCfg))
	}
	mech, err := mechanism(k.SASL)
	if err != nil {
		return nil, err
	}
	if mech != nil {
		opts = append(opts, kgo.SASL(mech),
			kgo.WithHooks(&authWatch{mechanism: mech.Name(), user: k.SASL.Username}))
	}
	return opts, nil
}

// mechanism returns the SASL mechanism of s, or nil when SASL is off.
func mechanism(s config.SASL) (sasl.Mechanism, error) {
	switch strings.ToUpper(s.Mechanism) {
	case "":
		return nil, nil
	case "PLAIN":
		return plain.Plain(func(context.Context) (plain.Auth, error) {
			return plain.Auth{User: s.Username, Pass: s.Password.Reveal()}, nil
		}), nil
	case "SCRAM-SHA-256":
		return scram.Sha256(func(context.Context) (scram.Auth, error) {
			return scram.Auth{User: s.Username, Pass: s.Password.Reveal()}, nil
		}), nil
	case "SCRAM-SHA-512":
		return scram.Sha512(func(context.Context) (scram.Auth, error) {
			return scram.Auth{User: s.Username, Pass: s.Password.Reveal()}, nil
		}), nil
	}
	return nil, fmt.Errorf("kafka.sasl.mechanism: must be one of %s, got %q",
		strings.Join(config.SASLMechanisms, ", "), s.Mechanism)
}
