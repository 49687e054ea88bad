package config

import "time"

// Config is the whole configuration of one replica. Field tags are the
// configuration keys of DESIGN.md; they are the contract.
type Config struct {
	Kafka    Kafka    `koanf:"kafka"`
	Qdrant   Qdrant   `koanf:"qdrant"`
	Routing  Routing  `koanf:"routing"`
	Record   Record   `koanf:"record"`
	Batch    Batch    `koanf:"batch"`
	Control  Control  `koanf:"control"`
	Backup   Backup   `koanf:"backup"`
	HTTP     HTTP     `koanf:"http"`
	Log      Log      `koanf:"log"`
	Shutdown Shutdown `koanf:"shutdown"`

	// SchemaRegistry is the Schema Registry of the topics in the
	// registry format.
	SchemaRegistry SchemaRegistry `koanf:"schema_registry"`
}

// Kafka configures the brokers, the data consumer group and the DLQ.
type Kafka struct {
	Brokers    []string `koanf:"brokers"`
	Group      string   `koanf:"group"`
	Topics     []string `koanf:"topics"`
	TopicRegex string   `koanf:"topic_regex"`
	// DLQTopic receives bad records. Empty: a bad record stops its
	// partition with a clear error and is never skipped.
	DLQTopic string `koanf:"dlq_topic"`
	ClientID string `koanf:"client_id"`
	// DialTimeout bounds one TCP (and TLS) connection attempt to a broker.
	DialTimeout time.Duration `koanf:"dial_timeout"`
	// CommitInterval is how often marked offsets are committed.
	CommitInterval   time.Duration `koanf:"commit_interval"`
	SessionTimeout   time.Duration `koanf:"session_timeout"`
	RebalanceTimeout time.Duration `koanf:"rebalance_timeout"`
	// FetchMaxBytes bounds one fetch response.
	FetchMaxBytes ByteSize `koanf:"fetch_max_bytes"`
	// FetchMaxWait is how long a broker may hold a fetch waiting for data
	// (Kafka's fetch.max.wait.ms); it bounds how late a resumed partition
	// is fetched again.
	FetchMaxWait time.Duration `koanf:"fetch_max_wait"`
	TLS          TLS           `koanf:"tls"`
	SASL         SASL          `koanf:"sasl"`
}

// TLS configures a TLS client. Enabled with no files uses the system roots.
type TLS struct {
	Enabled            bool   `koanf:"enabled"`
	CAFile             string `koanf:"ca_file"`
	CertFile           string `koanf:"cert_file"`
	KeyFile            string `koanf:"key_file"`
	ServerName         string `koanf:"server_name"`
	InsecureSkipVerify bool   `koanf:"insecure_skip_verify"`
}

// SASL configures Kafka authentication. Mechanism is one of PLAIN,
// SCRAM-SHA-256, SCRAM-SHA-512; empty disables SASL.
type SASL struct {
	Mechanism string `koanf:"mechanism"`
	Username  string `koanf:"username"`
	Password  Secret `koanf:"password"`
}

// Qdrant configures the Qdrant endpoints.
type Qdrant struct {
	// GRPC is host:port of Qdrant's gRPC API (points and collections).
	GRPC string `koanf:"grpc"`
	// REST is the base URL of Qdrant's REST API (snapshots, optimizations).
	REST string `koanf:"rest"`
	// Nodes are the REST URLs of every node of a Qdrant cluster: a backup
	// snapshots each node holding shards of the collection, a restore
	// uploads each snapshot to the node it came from. Empty: REST alone.
	Nodes  []string `koanf:"nodes"`
	APIKey Secret   `koanf:"api_key"`
	TLS    TLS      `koanf:"tls"`
	// Timeout bounds one gRPC call; a call that times out is retried.
	Timeout time.Duration `koanf:"timeout"`
	// Retry bounds the backoff between retries of retryable failures.
	Retry Retry `koanf:"retry"`
	// Fencing stores each upsert's Kafka offset in the payload key
	// _kq_offset and makes upserts conditional (update_filter), so a late
	// write from a replica that lost its partition never overwrites a newer
	// one. Costs one operation per point per UpdateBatch; needs every id to
	// come from one partition (key partitioning).
	Fencing bool `koanf:"fencing"`
	// FencingEpoch is stored with the offset (_kq_offset = epoch·2^43 +
	// offset): a write of a higher epoch always wins over one of a lower
	// epoch. Bump it to reprocess after offsets went back (topic recreated,
	// partitions added). 0..1023; needs Fencing.
	FencingEpoch int `koanf:"fencing_epoch"`
	// MaxRequestBytes bounds the encoded size of one UpdateBatch request;
	// a larger batch is sent as several requests.
	MaxRequestBytes ByteSize `koanf:"max_request_bytes"`
}

// Retry is a capped exponential backoff with full jitter.
type Retry struct {
	InitialBackoff time.Duration `koanf:"initial_backoff"`
	MaxBackoff     time.Duration `koanf:"max_backoff"`
}

// Routing maps topics to collections.
type Routing struct {
	// Collection, when set, receives every topic not in Topics. Empty:
	// collection = topic name.
	Collection string `koanf:"collection"`
	// Topics routes single topics: each entry is a collection name, or an
	// object {collection, format}.
	Topics map[string]Route `koanf:"topics"`
	// AllowRecordOverride lets a record's collection_name field pick its
	// collection.
	AllowRecordOverride bool `koanf:"allow_record_override"`
}

// Route is how the records of one topic are read and where they go
// (routing.topics.<topic>). In a layer it is a collection name, or an
// object {collection, format}; empty fields keep the defaults
// (routing.collection or the topic name; record.format).
type Route struct {
	Collection string `koanf:"collection"`
	Format     string `koanf:"format"`
}

// Record configures the record format (value JSON field names, size limit,
// how the key relates to the point id).
type Record struct {
	// Format is how record values are encoded: json, protobuf or
	// registry (schemas.Formats); routing.topics.<topic>.format overrides
	// it per topic.
	Format          string   `koanf:"format"`
	IDField         string   `koanf:"id_field"`
	VectorField     string   `koanf:"vector_field"`
	PayloadField    string   `koanf:"payload_field"`
	CollectionField string   `koanf:"collection_field"`
	MaxBytes        ByteSize `koanf:"max_bytes"`
	// DeleteField names the value field that, when true, makes the record
	// a delete record (the point of its id is deleted).
	DeleteField string `koanf:"delete_field"`
	// KeyID is how the record key relates to the point id of a value:
	// fallback (the value's id field, else the key), key (always the key)
	// or strict (the key, which a value id must agree with).
	KeyID string `koanf:"key_id"`
}

// SchemaRegistry configures the Schema Registry client (the registry
// format): its URL, basic or bearer authentication, TLS and a bound on one
// request.
type SchemaRegistry struct {
	URL         string        `koanf:"url"`
	Username    string        `koanf:"username"`
	Password    Secret        `koanf:"password"`
	BearerToken Secret        `koanf:"bearer_token"`
	TLS         TLS           `koanf:"tls"`
	Timeout     time.Duration `koanf:"timeout"`
}

// Batch bounds the per-partition batches and the memory of a replica.
type Batch struct {
	MaxRecords int           `koanf:"max_records"`
	MaxBytes   ByteSize      `koanf:"max_bytes"`
	Linger     time.Duration `koanf:"linger"`
	// MaxInflightBytes bounds the bytes fetched but not yet committed;
	// fetching pauses above it.
	MaxInflightBytes ByteSize `koanf:"max_inflight_bytes"`
	// MaxDecodedBytes bounds the memory of decoded records held at once,
	// across partitions:
	// each partition writes its batch in pieces of at most its share.
	MaxDecodedBytes ByteSize `koanf:"max_decoded_bytes"`
	// MaxInflightPerPartition bounds the batches of one partition in
	// flight at once (taken from its queue and not yet finished): the
	// next batch is decoded while the earlier ones are written. Two
	// batches in flight never write the same point id. 1: one batch at
	// a time.
	MaxInflightPerPartition int `koanf:"max_inflight_per_partition"`
}

// RuntimeOverhead is the memory of a replica besides what its bounds hold:
// the Go runtime, gRPC and Kafka client buffers, the control plane and a
// backup's transfer buffers.
const RuntimeOverhead = 128 * MiB

// MemoryBudget is the memory a replica needs at most, from its bounds: the
// Kafka records it holds (batch.max_inflight_bytes), one fetch response
// (kafka.fetch_max_bytes), the decoded records (batch.max_decoded_bytes)
// and about as much again for the requests encoding them, plus
// RuntimeOverhead. `kafka-qdrant run` makes it the Go runtime's soft
// memory limit unless GOMEMLIMIT is set, so that the garbage collector
// keeps the process near it whatever the backlog.
func (c Config) MemoryBudget() int64 {
	return int64(c.Batch.MaxInflightBytes) + int64(c.Kafka.FetchMaxBytes) + 2*int64(c.Batch.MaxDecodedBytes) + int64(RuntimeOverhead)
}

// Control configures the control plane.
type Control struct {
	Enabled     bool   `koanf:"enabled"`
	Topic       string `koanf:"topic"`
	StatusTopic string `koanf:"status_topic"`
	// StatusRetention is how long a finished command stays on the status
	// topic; the replica owning the control partition then tombstones it.
	// 0 keeps every command forever.
	StatusRetention time.Duration `koanf:"status_retention"`
	// Auth requires signed commands when it has keys.
	Auth ControlAuth `koanf:"auth"`
}

// ControlAuth configures command authorization: with at least one key,
// every command must be signed (HMAC-SHA256 of the record value with a
// key's secret, headers kq.auth.key and kq.auth.signature), carry its id
// and an issued_at within Window, and be of a type its key may send.
type ControlAuth struct {
	// Keys maps a key id (lower case letters, digits, _ and -) to its
	// secret; set secrets through KQ__CONTROL__AUTH__KEYS__<ID>. ctl signs
	// with one of them (--key, or the only one).
	Keys map[string]Secret `koanf:"keys"`
	// Commands maps a key id to the command types it may send, comma
	// separated ("index_defer,index_build"), or "*" for every type. A key
	// without an entry may send nothing (a ctl config needs none).
	Commands map[string]string `koanf:"commands"`
	// Window is how far a command's issued_at may be from the time it
	// reached the control topic. It must be shorter than
	// control.status_retention, so a replayed record is either still
	// known (and answered with its final status) or expired.
	Window time.Duration `koanf:"window"`
}

// Backup configures the backup store.
type Backup struct {
	// Store is s3://bucket/prefix or file:///absolute/path. Empty: no
	// backup store; backup and restore commands fail with a clear error.
	Store string `koanf:"store"`
	S3    S3     `koanf:"s3"`
	// Schedule is the interval between scheduled backups, a Go duration
	// such as "6h". Empty: no scheduled backups. Requires Store.
	Schedule string `koanf:"schedule"`
	// Collections are backed up by the schedule. Empty: the collections
	// the routing names (routing.topics, routing.collection, else the
	// names of kafka.topics).
	Collections []string  `koanf:"collections"`
	Retention   Retention `koanf:"retention"`
}

// S3 configures the S3 client of an s3:// backup store.
type S3 struct {
	Endpoint        string `koanf:"endpoint"`
	Region          string `koanf:"region"`
	PathStyle       bool   `koanf:"path_style"`
	AccessKeyID     string `koanf:"access_key_id"`
	SecretAccessKey Secret `koanf:"secret_access_key"`
}

// Retention bounds the backups kept per collection; zero means no bound.
type Retention struct {
	KeepLast int           `koanf:"keep_last"`
	MaxAge   time.Duration `koanf:"max_age"`
}

// HTTP configures the metrics and health server.
type HTTP struct {
	Listen string `koanf:"listen"`
}

// Log configures structured logging.
type Log struct {
	Level  string `koanf:"level"`  // debug, info, warn, error
	Format string `koanf:"format"` // json or text
}

// Shutdown bounds the graceful drain on the first SIGTERM/SIGINT.
type Shutdown struct {
	Timeout time.Duration `koanf:"timeout"`
}

// Default returns the configuration with every documented default.
func Default() Config {
	return Config{
		Kafka: Kafka{
			Brokers:          []string{"localhost:9092"},
			Group:            "kafka-qdrant",
			Topics:           []string{"vectors"},
			ClientID:         "kafka-qdrant",
			DialTimeout:      10 * time.Second,
			CommitInterval:   time.Second,
			SessionTimeout:   45 * time.Second,
			RebalanceTimeout: 60 * time.Second,
			FetchMaxBytes:    16 << 20,
			FetchMaxWait:     500 * time.Millisecond,
		},
		Qdrant: Qdrant{
			GRPC:    "localhost:6334",
			REST:    "http://localhost:6333",
			Timeout: 30 * time.Second,
			Retry:   Retry{InitialBackoff: 100 * time.Millisecond, MaxBackoff: 10 * time.Second},
			// Half of Qdrant's own REST limit (service.max_request_size_mb:
			// 32), which gateways sized for Qdrant allow; 4x batch.max_bytes,
			// so only outliers are split.
			MaxRequestBytes: 16 * MiB,
		},
		Routing: Routing{AllowRecordOverride: true},
		Record: Record{
			Format:          "json",
			IDField:         "id",
			VectorField:     "vector",
			PayloadField:    "payload",
			CollectionField: "collection_name",
			MaxBytes:        1 << 20,
			DeleteField:     "delete",
			KeyID:           "fallback",
		},
		Batch: Batch{
			MaxRecords: 512,
			MaxBytes:   4 << 20,
			Linger:     20 * time.Millisecond,
			// Enough for every partition of a replica to keep its
			// batches in flight (BenchmarkReplicaThroughput: 32/32/16 MiB
			// ran as fast as 256/256/50 in ~40% of the memory); see
			// MemoryBudget.
			MaxInflightBytes: 32 << 20,
			MaxDecodedBytes:  32 << 20,
			// BenchmarkPipeline/one-partition-5ms: see README "Tuning".
			MaxInflightPerPartition: 4,
		},
		Control: Control{
			Enabled:         true,
			Topic:           "kafka-qdrant.control",
			StatusTopic:     "kafka-qdrant.status",
			StatusRetention: 7 * 24 * time.Hour,
			Auth:            ControlAuth{Window: 5 * time.Minute},
		},
		HTTP:     HTTP{Listen: ":9464"},
		Log:      Log{Level: "info", Format: "json"},
		Shutdown: Shutdown{Timeout: 30 * time.Second},

		SchemaRegistry: SchemaRegistry{Timeout: 10 * time.Second},
	}
}
