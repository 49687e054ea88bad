// Package config holds the typed configuration of kafka-qdrant: defaults,
// loading in layers and validation whose errors name the key.
//
// Loading (Load) merges, lowest precedence first:
//
//	Default()  →  YAML file  →  KQ__ environment  →  --set key=value
//
// Every key of every layer is checked against the Config struct (its koanf
// tags are the key names): an unknown key, or a value that cannot become the
// key's type, is an error naming the key and the layer it came from, never
// silently ignored. Load does not check values against each other; Validate
// does, and reports every problem at once as a ValidationError whose
// FieldErrors name the key ("batch.max_records: must be > 0, got 0").
// Any error from Load or Validate means the configuration is invalid (exit
// code 2 in the command line).
//
// Value syntax, the same in every layer:
//   - durations are Go durations ("250ms", "6h"); a bare 0 is allowed, other
//     bare numbers are rejected (they have no unit);
//   - byte sizes (ByteSize) are integers with an optional unit: KB, MB, GB
//     (powers of 1000) or KiB, MiB, GiB (powers of 1024);
//   - lists given as one string are split on commas ("a:9092,b:9092"; ""
//     is the empty list);
//   - booleans accept strconv.ParseBool syntax ("true", "false", "1", "0");
//   - in YAML, a section with no value ("kafka:" with every key below it
//     commented out) keeps its defaults; a key with no value is an error.
//
// Environment variables use the prefix KQ__ and "__" between levels; the
// rest is lower-cased: KQ__KAFKA__DLQ_TOPIC sets kafka.dlq_topic and
// KQ__ROUTING__TOPICS__ORDERS sets routing.topics.orders. --set keys are
// dotted paths; below a map key (routing.topics) the rest of the path is the
// map key, so --set routing.topics.app.events=events routes topic
// "app.events". An entry of routing.topics is a collection name or an
// object {collection, format} (Route); from the environment and --set the
// object is written in YAML flow style, --set 'routing.topics.a={format:
// registry}'. A later layer replaces an entry whole.
//
// kafka.topics and kafka.topic_regex are exclusive: when a layer sets
// topic_regex and no layer sets topics, the default topics list is dropped.
//
// Secrets (type Secret: passwords, API keys) print as "[redacted]" through
// fmt, slog, JSON, YAML and text marshalling, so a Config can be logged or
// printed whole. Only Secret.Reveal returns the value.
//
// TLS.Build turns a TLS section into a *tls.Config for both the Kafka and the
// Qdrant clients.
package config
