// Package harness runs the end-to-end suite's world: it picks the
// environment (embedded, real local, external or Docker) from environment
// variables, builds the kafka-qdrant binary once per test run, starts the
// servers it has to, and starts replicas of the real binary as separate
// processes against them. It also holds the assertions every scenario
// shares: the exact final Qdrant content per point id, read back through the
// Qdrant go-client so it works on real Qdrant, and committed offsets equal
// to log end offsets, read with kadm.
//
// Environment variables (any mix works; each server is chosen on its own):
//
//	KQ_E2E_KAFKA_BROKERS    host:port[,host:port]: use these brokers
//	KQ_E2E_KAFKA_ENV        label printed for them (scripts/e2e.sh sets
//	                        "real-local" for the broker it starts)
//	KQ_E2E_QDRANT_GRPC      host:port of Qdrant's gRPC API
//	KQ_E2E_QDRANT_REST      base URL of Qdrant's REST API (default: port
//	                        6333 on the gRPC host)
//	KQ_E2E_QDRANT_API_KEY   Qdrant API key
//	KQ_E2E_QDRANT_TLS=1     use TLS towards Qdrant
//	KQ_E2E_S3_ENDPOINT      http(s)://host:port of an S3 server
//	KQ_E2E_S3_ACCESS_KEY, KQ_E2E_S3_SECRET_KEY, KQ_E2E_S3_REGION, KQ_E2E_S3_SERVER (label)
//	KQ_E2E_SCHEMA_REGISTRY  base URL of a Schema Registry (default: franz-go's
//	                        in-memory one, served from the test process);
//	                        KQ_E2E_SCHEMA_REGISTRY_USERNAME, _PASSWORD
//	KQ_E2E_DOCKER           1: start what is not external with testcontainers
//	                        (needs -tags docker); 0: never; unset: when a
//	                        Docker engine is reachable and built with the tag
//	KQ_E2E_BINARY           a prebuilt kafka-qdrant binary instead of go build
//	KQ_E2E_LOG_DIR          where process logs go (default e2e/logs/<time>)
//	KQ_E2E_KEEP_LOGS=1      keep the logs of a passing run
//	KQ_E2E_KEEP_DATA=1      keep the topics and collections of each test
//
// Without any of them the environment is embedded: the binary's own
// `dev kafka` (kfake) and `dev qdrant` (the in-memory Qdrant API server),
// each in its own process.
//
// Invariants: every topic, consumer group and collection a test uses is
// named uniquely for that test and deleted when it ends (unless
// KQ_E2E_KEEP_DATA=1); every process the harness starts is stopped by it
// (SIGTERM, then SIGKILL after a deadline) and dies with the test binary
// (Pdeathsig); the logs of a failing test are kept and their tails printed.
package harness
