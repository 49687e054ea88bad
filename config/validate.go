package config

import (
	"fmt"
	"maps"
	"net"
	"net/url"
	"os"
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/seed-a550a1ef/kafka-qdrant/schemas"
)

// SASL mechanisms accepted by kafka.sasl.mechanism (case-insensitive).
var SASLMechanisms = []string{"PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"}

// Validate checks every value and every relation between values and returns
// nil or a ValidationError listing all problems, each naming its key, in
// the order of the keys in Config.
func (c Config) Validate() error {
	var l errorList
	topicMatch := c.Kafka.validate(&l)
	c.Qdrant.validate(&l)
	c.Routing.validate(&l, topicMatch)
	c.Record.validate(&l, c.Routing)
	c.Batch.validate(&l, c.Record)
	c.Control.validate(&l, c.Kafka, topicMatch)
	c.Backup.validate(&l)
	if c.Backup.Schedule != "" && len(c.Backup.Collections) == 0 && c.Kafka.TopicRegex != "" {
		l.add("backup.collections", "must list the collections to back up: backup.schedule is set and the collections of kafka.topic_regex are not known in advance")
	}
	if c.Backup.Schedule != "" && len(c.Control.Auth.Keys) > 0 {
		if _, ok := c.Control.Auth.KeyFor(schemas.CommandBackup, schemas.CommandPruneBackups); !ok {
			l.add("backup.schedule", "needs a key of control.auth.keys that control.auth.commands allows backup and prune_backups: the scheduled commands are signed with it")
		}
	}
	validateListen(&l, "http.listen", c.HTTP.Listen)
	validateOneOf(&l, "log.level", c.Log.Level, "debug", "info", "warn", "error")
	validateOneOf(&l, "log.format", c.Log.Format, "json", "text")
	positive(&l, "shutdown.timeout", c.Shutdown.Timeout)
	c.SchemaRegistry.validate(&l, c.Record, c.Routing)
	return l.err(false)
}

// consumed reports whether a topic name is read by the data consumer group.
// It is nil when the topic selection itself is invalid, so that relations
// to it are not checked (and not reported twice).
type consumed func(topic string) bool

func (k Kafka) validate(l *errorList) consumed {
	if len(k.Brokers) == 0 {
		l.add("kafka.brokers", "must not be empty")
	}
	for i, b := range k.Brokers {
		if err := checkHostPort(b); err != nil {
			l.add(fmt.Sprintf("kafka.brokers[%d]", i), "%v", err)
		}
	}
	nonEmpty(l, "kafka.group", k.Group)
	nonEmpty(l, "kafka.client_id", k.ClientID)

	var match consumed
	switch {
	case len(k.Topics) > 0 && k.TopicRegex != "", len(k.Topics) == 0 && k.TopicRegex == "":
		l.add("kafka.topics and kafka.topic_regex", "set exactly one")
	case k.TopicRegex != "":
		re, err := regexp.Compile(k.TopicRegex)
		if err != nil {
			l.add("kafka.topic_regex", "invalid regex: %v", err)
			break
		}
		match = re.MatchString
	}
	seen := make(map[string]bool, len(k.Topics))
	for i, t := range k.Topics {
		key := fmt.Sprintf("kafka.topics[%d]", i)
		if err := checkTopic(t); err != nil {
			l.add(key, "%v", err)
		}
		if seen[t] {
			l.add(key, "duplicate topic %q", t)
		}
		seen[t] = true
	}
	if len(k.Topics) > 0 && k.TopicRegex == "" {
		match = func(t string) bool { return seen[t] }
	}

	if k.DLQTopic != "" {
		if err := checkTopic(k.DLQTopic); err != nil {
			l.add("kafka.dlq_topic", "%v", err)
		}
		if match != nil && match(k.DLQTopic) {
			l.add("kafka.dlq_topic", "must not be a consumed topic (it is in kafka.topics or matches kafka.topic_regex)")
		}
	}
	positive(l, "kafka.dial_timeout", k.DialTimeout)
	positive(l, "kafka.commit_interval", k.CommitInterval)
	positive(l, "kafka.session_timeout", k.SessionTimeout)
	positive(l, "kafka.rebalance_timeout", k.RebalanceTimeout)
	positive(l, "kafka.fetch_max_wait", k.FetchMaxWait)
	if k.FetchMaxBytes <= 0 {
		l.add("kafka.fetch_max_bytes", "must be > 0, got %d", k.FetchMaxBytes)
	}
	k.TLS.validate(l, "kafka.tls")
	k.SASL.validate(l)
	return match
}

func (s SASL) validate(l *errorList) {
	if s.Mechanism == "" {
		if s.Username != "" || s.Password != "" {
			l.add("kafka.sasl.mechanism", "must be set when kafka.sasl.username or kafka.sasl.password is set")
		}
		return
	}
	if !slices.Contains(SASLMechanisms, strings.ToUpper(s.Mechanism)) {
		l.add("kafka.sasl.mechanism", "must be one of %s, got %q", strings.Join(SASLMechanisms, ", "), s.Mechanism)
	}
	nonEmpty(l, "kafka.sasl.username", s.Username)
	if s.Password == "" {
		l.add("kafka.sasl.password", "must not be empty")
	}
}

func (t TLS) validate(l *errorList, prefix string) {
	files := []struct{ key, path string }{
		{"ca_file", t.CAFile}, {"cert_file", t.CertFile}, {"key_file", t.KeyFile},
	}
	if !t.Enabled {
		for _, f := range files {
			if f.path != "" {
				l.add(prefix+"."+f.key, "is set but %s.enabled is false", prefix)
			}
		}
		return
	}
	missing := false
	if (t.CertFile == "") != (t.KeyFile == "") {
		l.add(prefix+".cert_file and "+prefix+".key_file", "set both or neither")
		missing = true
	}
	for _, f := range files {
		if f.path == "" {
			continue
		}
		if _, err := os.Stat(f.path); err != nil {
			l.add(prefix+"."+f.key, "%v", err)
			missing = true
		}
	}
	if missing {
		return
	}
	if _, err := t.Build(); err != nil {
		l.add(prefix, "%v", err)
	}
}

func (q Qdrant) validate(l *errorList) {
	if err := checkHostPort(q.GRPC); err != nil {
		l.add("qdrant.grpc", "%v", err)
	}
	u, err := url.Parse(q.REST)
	switch {
	case err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "":
		l.add("qdrant.rest", "must be an http(s) URL, got %q", q.REST)
	case q.TLS.Enabled && u.Scheme != "https":
		l.add("qdrant.rest", "must be an https URL when qdrant.tls.enabled is true, got %q", q.REST)
	}
	for i, n := range q.Nodes {
		if u, err := url.Parse(n); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			l.add(fmt.Sprintf("qdrant.nodes[%d]", i), "must be an http(s) URL, got %q", n)
		}
	}
	q.TLS.validate(l, "qdrant.tls")
	positive(l, "qdrant.timeout", q.Timeout)
	positive(l, "qdrant.retry.initial_backoff", q.Retry.InitialBackoff)
	if q.Retry.MaxBackoff < q.Retry.InitialBackoff {
		l.add("qdrant.retry.max_backoff", "must be >= qdrant.retry.initial_backoff (%s), got %s", q.Retry.InitialBackoff, q.Retry.MaxBackoff)
	}
	// The epoch takes the top 10 of the 53 bits a float64 holds exactly
	// (Qdrant compares ranges as doubles); offsets get the other 43.
	switch {
	case q.FencingEpoch < 0 || q.FencingEpoch > 1023:
		l.add("qdrant.fencing_epoch", "must be between 0 and 1023, got %d", q.FencingEpoch)
	case q.FencingEpoch != 0 && !q.Fencing:
		l.add("qdrant.fencing_epoch", "has no effect without qdrant.fencing: true, got %d", q.FencingEpoch)
	}
	// 256 MiB is the client's gRPC send limit (sink.NewClient).
	if q.MaxRequestBytes < 64*KiB || q.MaxRequestBytes > 256*MiB {
		l.add("qdrant.max_request_bytes", "must be between 64KiB and 256MiB, got %d", int64(q.MaxRequestBytes))
	}
}

func (r Routing) validate(l *errorList, match consumed) {
	if r.Collection != "" {
		if err := checkCollection(r.Collection); err != nil {
			l.add("routing.collection", "%v", err)
		}
	}
	for _, topic := range slices.Sorted(maps.Keys(r.Topics)) {
		key := "routing.topics." + topic
		if err := checkTopic(topic); err != nil {
			l.add(key, "%v", err)
		} else if match != nil && !match(topic) {
			l.add(key, "topic is not consumed (not in kafka.topics and does not match kafka.topic_regex)")
		}
		route := r.Topics[topic]
		switch {
		case route == Route{}:
			l.add(key, "collection name must not be empty (or write a mapping with collection and/or format)")
		case route.Collection != "":
			if err := checkCollection(route.Collection); err != nil {
				l.add(key, "%v", err)
			}
		}
		if route.Format != "" {
			validateOneOf(l, key+".format", route.Format, RecordFormats...)
		}
	}
}

func (r Record) validate(l *errorList, routing Routing) {
	validateOneOf(l, "record.format", r.Format, RecordFormats...)
	fields := []struct{ key, v string }{
		{"record.id_field", r.IDField},
		{"record.vector_field", r.VectorField},
		{"record.payload_field", r.PayloadField},
		{"record.collection_field", r.CollectionField},
		{"record.delete_field", r.DeleteField},
	}
	seen := make(map[string]string)
	for _, f := range fields {
		if f.v == "" {
			if f.key != "record.collection_field" || routing.AllowRecordOverride {
				l.add(f.key, "must not be empty")
			}
			continue
		}
		if other, dup := seen[f.v]; dup {
			l.add(f.key, "must differ from %s, both are %q", other, f.v)
		}
		seen[f.v] = f.key
		if slices.Contains(strings.Split(f.v, "."), "") {
			l.add(f.key, "has an empty part in %q; a dotted name is a path into nested records (Avro, Protobuf)", f.v)
		}
	}
	// A dotted name is a path: no part may be inside another.
	for _, f := range fields {
		for _, g := range fields {
			if f.v != "" && g.v != "" && strings.HasPrefix(f.v, g.v+".") {
				l.add(f.key, "%q is inside %s (%q); the parts of a record must be distinct fields", f.v, g.key, g.v)
			}
		}
	}
	if r.MaxBytes <= 0 {
		l.add("record.max_bytes", "must be > 0, got %d", r.MaxBytes)
	}
	validateOneOf(l, "record.key_id", r.KeyID, "fallback", "key", "strict")
}

func (b Batch) validate(l *errorList, r Record) {
	if b.MaxRecords <= 0 {
		l.add("batch.max_records", "must be > 0, got %d", b.MaxRecords)
	}
	if b.MaxBytes <= 0 {
		l.add("batch.max_bytes", "must be > 0, got %d", b.MaxBytes)
	}
	if b.Linger < 0 {
		l.add("batch.linger", "must be >= 0, got %s", b.Linger)
	}
	if b.MaxInflightBytes < b.MaxBytes {
		l.add("batch.max_inflight_bytes", "must be >= batch.max_bytes (%s), got %s", b.MaxBytes, b.MaxInflightBytes)
	}
	if b.MaxInflightBytes < r.MaxBytes {
		l.add("batch.max_inflight_bytes", "must be >= record.max_bytes (%s), got %s", r.MaxBytes, b.MaxInflightBytes)
	}
	if b.MaxDecodedBytes <= 0 {
		l.add("batch.max_decoded_bytes", "must be > 0, got %d", b.MaxDecodedBytes)
	}
	if b.MaxInflightPerPartition < 1 || b.MaxInflightPerPartition > MaxInflightPerPartition {
		l.add("batch.max_inflight_per_partition", "must be 1 to %d, got %d", MaxInflightPerPartition, b.MaxInflightPerPartition)
	}
}

// MaxInflightPerPartition is the largest batch.max_inflight_per_partition.
const MaxInflightPerPartition = 64

func (c Control) validate(l *errorList, k Kafka, match consumed) {
	c.Auth.validate(l, c.StatusRetention)
	if !c.Enabled {
		return
	}
	for _, t := range []struct{ key, topic string }{
		{"control.topic", c.Topic}, {"control.status_topic", c.StatusTopic},
	} {
		if t.topic == "" {
			l.add(t.key, "must not be empty when control.enabled is true")
			continue
		}
		if err := checkTopic(t.topic); err != nil {
			l.add(t.key, "%v", err)
		}
		if match != nil && match(t.topic) {
			l.add(t.key, "must not be a consumed data topic (it is in kafka.topics or matches kafka.topic_regex)")
		}
		if t.topic == k.DLQTopic {
			l.add(t.key, "must differ from kafka.dlq_topic")
		}
	}
	if c.Topic != "" && c.Topic == c.StatusTopic {
		l.add("control.status_topic", "must differ from control.topic")
	}
	if c.StatusRetention < 0 {
		l.add("control.status_retention", "must be >= 0 (0 keeps every command), got %s", c.StatusRetention)
	}
}

// AuthKeyIDPattern is what a control.auth key id may look like: it names
// an environment variable (KQ__CONTROL__AUTH__KEYS__<ID>, whose name the
// loader lower-cases) and a Kafka header value.
var AuthKeyIDPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,63}$`)

// MinAuthSecretLength is the shortest control.auth secret accepted.
const MinAuthSecretLength = 32

func (a ControlAuth) validate(l *errorList, retention time.Duration) {
	for _, id := range slices.Sorted(maps.Keys(a.Keys)) {
		key := "control.auth.keys." + id
		if !AuthKeyIDPattern.MatchString(id) {
			l.add(key, "key id must be 1-64 lower case letters, digits, _ or - (starting with a letter or digit)")
		}
		if n := len(a.Keys[id].Reveal()); n < MinAuthSecretLength {
			l.add(key, "secret has %d characters, at least %d needed (e.g. openssl rand -hex 32)", n, MinAuthSecretLength)
		}
	}
	for _, id := range slices.Sorted(maps.Keys(a.Commands)) {
		key := "control.auth.commands." + id
		if _, ok := a.Keys[id]; !ok {
			l.add(key, "no key %q in control.auth.keys (set its secret, e.g. through KQ__CONTROL__AUTH__KEYS__%s)", id, strings.ToUpper(id))
		}
		if _, err := ParseAuthCommands(a.Commands[id]); err != nil {
			l.add(key, "%v", err)
		}
	}
	if len(a.Keys) == 0 {
		return
	}
	switch {
	case a.Window <= 0:
		l.add("control.auth.window", "must be > 0, got %s", a.Window)
	case retention > 0 && a.Window >= retention:
		l.add("control.auth.window", "must be shorter than control.status_retention (%s), got %s: a replayed command must still be known when its issued_at is within the window", retention, a.Window)
	}
}

// ParseAuthCommands parses a control.auth.commands entry: "*" (nil, every
// type) or comma-separated known command types.
func ParseAuthCommands(s string) ([]schemas.CommandType, error) {
	if strings.TrimSpace(s) == "*" {
		return nil, nil
	}
	var out []schemas.CommandType
	for item := range strings.SplitSeq(s, ",") {
		t := schemas.CommandType(strings.TrimSpace(item))
		switch {
		case t == "":
			continue
		case !t.Known():
			return nil, fmt.Errorf("unknown command type %q; known: %s, or * for every type", t, strings.Join(typeNames(), ", "))
		}
		out = append(out, t)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("lists no command type; list some, or \"*\" for every type, or remove the entry (the key may then send nothing)")
	}
	return out, nil
}

func typeNames() []string {
	var s []string
	for _, t := range schemas.CommandTypes() {
		s = append(s, string(t))
	}
	return s
}

func (b Backup) validate(l *errorList) {
	if b.Store != "" {
		if err := checkStore(b.Store); err != nil {
			l.add("backup.store", "%v", err)
		}
	}
	if b.Schedule != "" {
		d, err := time.ParseDuration(b.Schedule)
		switch {
		case err != nil:
			l.add("backup.schedule", "invalid duration %q: want a Go duration such as \"6h\", or empty", b.Schedule)
		case d <= 0:
			l.add("backup.schedule", "must be > 0, got %s", b.Schedule)
		case b.Store == "":
			l.add("backup.schedule", "needs backup.store")
		}
	}
	if b.S3.Endpoint != "" {
		if u, err := url.Parse(b.S3.Endpoint); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			l.add("backup.s3.endpoint", "must be an http(s) URL, got %q", b.S3.Endpoint)
		}
	}
	if (b.S3.AccessKeyID == "") != (b.S3.SecretAccessKey == "") {
		l.add("backup.s3.access_key_id and backup.s3.secret_access_key", "set both or neither (neither: the default AWS credential chain)")
	}
	for i, c := range b.Collections {
		if err := checkCollection(c); err != nil {
			l.add(fmt.Sprintf("backup.collections[%d]", i), "%v", err)
		}
	}
	if len(b.Collections) > 0 && b.Schedule == "" {
		l.add("backup.collections", "needs backup.schedule")
	}
	if b.Retention.KeepLast < 0 {
		l.add("backup.retention.keep_last", "must be >= 0, got %d", b.Retention.KeepLast)
	}
	if b.Retention.MaxAge < 0 {
		l.add("backup.retention.max_age", "must be >= 0, got %s", b.Retention.MaxAge)
	}
}

// RecordFormats are the values of record.format and
// routing.topics.<topic>.format (schemas.Formats, which a test keeps equal).
var RecordFormats = []string{"json", "protobuf", "registry"}

// FormatOf returns the record format of topic: its routing.topics entry's,
// else record.format.
func (c Config) FormatOf(topic string) string {
	if f := c.Routing.Topics[topic].Format; f != "" {
		return f
	}
	return c.Record.Format
}

func (s SchemaRegistry) validate(l *errorList, r Record, routing Routing) {
	var users []string
	if r.Format == "registry" {
		users = append(users, "record.format")
	}
	for _, t := range slices.Sorted(maps.Keys(routing.Topics)) {
		if routing.Topics[t].Format == "registry" {
			users = append(users, "routing.topics."+t+".format")
		}
	}
	if s.URL == "" {
		if len(users) > 0 {
			l.add("schema_registry.url", "must be set: %s is registry", strings.Join(users, " and "))
		}
	} else {
		u, err := url.Parse(s.URL)
		switch {
		case err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "":
			l.add("schema_registry.url", "must be an http(s) URL, got %q", s.URL)
		case s.TLS.Enabled && u.Scheme != "https":
			l.add("schema_registry.url", "must be an https URL when schema_registry.tls.enabled is true, got %q", s.URL)
		}
	}
	if (s.Username == "") != (s.Password == "") {
		l.add("schema_registry.username and schema_registry.password", "set both or neither")
	}
	s.TLS.validate(l, "schema_registry.tls")
	positive(l, "schema_registry.timeout", s.Timeout)
}

// checkStore accepts s3://bucket[/prefix] and file:///absolute/path.
func checkStore(s string) error {
	u, err := url.Parse(s)
	if err != nil {
		return fmt.Errorf("invalid URL: %v", err)
	}
	switch u.Scheme {
	case "s3":
		if u.Host == "" {
			return fmt.Errorf("s3 store needs a bucket: s3://bucket/prefix, got %q", s)
		}
	case "file":
		if u.Host != "" || !path.IsAbs(u.Path) {
			return fmt.Errorf("file store needs an absolute path: file:///path, got %q", s)
		}
	default:
		return fmt.Errorf("scheme must be s3:// or file://, got %q", s)
	}
	return nil
}

func validateListen(l *errorList, key, addr string) {
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		l.add(key, "must be [host]:port, got %q", addr)
		return
	}
	if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
		l.add(key, "invalid port %q", port)
	}
}

// checkHostPort accepts host:port with a non-empty host and a port 1-65535.
func checkHostPort(addr string) error {
	host, port, err := net.SplitHostPort(addr)
	if err != nil || host == "" {
		return fmt.Errorf("must be host:port, got %q", addr)
	}
	if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
		return fmt.Errorf("invalid port in %q", addr)
	}
	return nil
}

var topicRe = regexp.MustCompile(`^[a-zA-Z0-9._-]{1,249}$`)

// checkTopic applies Kafka's topic name rules.
func checkTopic(t string) error {
	if t == "." || t == ".." || !topicRe.MatchString(t) {
		return fmt.Errorf("invalid topic name %q: want 1-249 characters of [a-zA-Z0-9._-], not \".\" or \"..\"", t)
	}
	return nil
}

// checkCollection applies Qdrant's collection name rules: 1-255 bytes, no
// path separators, no characters reserved on common file systems, no
// control characters.
func checkCollection(name string) error {
	if name == "" {
		return fmt.Errorf("collection name must not be empty")
	}
	if len(name) > 255 {
		return fmt.Errorf("collection name longer than 255 bytes")
	}
	if i := strings.IndexFunc(name, func(r rune) bool {
		return r < 0x20 || r == 0x7f || strings.ContainsRune(`<>:"/\|?*`, r)
	}); i >= 0 {
		return fmt.Errorf("invalid collection name %q: must not contain %q", name, name[i:i+1])
	}
	if name == "." || name == ".." {
		return fmt.Errorf("invalid collection name %q", name)
	}
	return nil
}

func nonEmpty(l *errorList, key, v string) {
	if v == "" {
		l.add(key, "must not be empty")
	}
}

func positive(l *errorList, key string, d time.Duration) {
	if d <= 0 {
		l.add(key, "must be > 0, got %s", d)
	}
}

func validateOneOf(l *errorList, key, v string, allowed ...string) {
	if !slices.Contains(allowed, v) {
		l.add(key, "must be one of %s, got %q", strings.Join(allowed, ", "), v)
	}
}
