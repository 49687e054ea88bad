// Package kafkaclient turns the kafka section of the configuration into
// franz-go client options, and checks that the brokers can be reached.
//
// Options covers the connection only: seed brokers, client id, dial
// timeout, TLS and SASL (PLAIN, SCRAM-SHA-256, SCRAM-SHA-512). Every
// franz-go client of the process (the data consumer group, the DLQ producer,
// the control plane, the ctl command) starts from it and appends its own
// consumer, group or producer options, so they all reach the same cluster
// the same way.
//
// Invariants: Options never returns a partial option list with a nil error;
// secrets are read from config.Secret only at the moment a SASL session is
// opened and never appear in errors.
package kafkaclient
