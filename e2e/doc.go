// Package e2e is the end-to-end suite: it runs the real kafka-qdrant binary
// as replica processes against a Kafka broker, Qdrant and (for the backup
// work) an S3 server, and checks what users see: the exact final content of
// each Qdrant collection per point id, committed offsets equal to log end
// offsets, DLQ records read back with kcat, exit codes.
//
// The environment is chosen by KQ_E2E_* variables (see package
// e2e/internal/harness): embedded by default (the binary's own `dev kafka`
// and `dev qdrant`, each a process), a real local Apache Kafka and S3
// server when scripts/e2e.sh is run with KAFKA=real, external servers, or
// Docker containers. Run it with `make e2e` or `make e2e KAFKA=real`.
//
// Every scenario uses its own topic, consumer group, DLQ and control
// topics and collection, deleted when it ends, so scenarios run in
// parallel against any shared server.
package e2e
