package validate

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"math"
	"net"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/qdrant/go-client/qdrant"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
	"github.com/twmb/franz-go/pkg/sasl/scram"

	"github.com/seed-a550a1ef/kafka-qdrant/config"
	"github.com/seed-a550a1ef/kafka-qdrant/internal/qdrantmem"
	"github.com/seed-a550a1ef/kafka-qdrant/internal/s3test"
)

func TestMain(m *testing.M) { os.Exit(s3test.Main(m)) }

const apiKey = "the-right-key"

// env is a kfake cluster with SASL and ACLs, and an in-memory Qdrant that
// requires apiKey and holds the collection "vectors" (dim 4) and the
// sparse-only "sparse".
type env struct {
	brokers []string
	qdrant  *qdrantmem.TestServer
}

// Users of the cluster: "kq" may do everything the replica needs; each
// other user lacks one permission.
const password = "pw"

func newEnv(t *testing.T) env {
	t.Helper()
	lit := kmsg.ACLResourcePatternTypeLiteral
	pre := kmsg.ACLResourcePatternTypePrefixed
	topicACL := func(name string, op kmsg.ACLOperation) kfake.ACL {
		return kfake.ACL{Resource: kmsg.ACLResourceTypeTopic, Name: name, Pattern: lit, Operation: op, Allow: true}
	}
	groups := kfake.ACL{Resource: kmsg.ACLResourceTypeGroup, Name: "kafka-qdrant", Pattern: pre, Operation: kmsg.ACLOperationRead, Allow: true}
	create := kfake.ACL{Resource: kmsg.ACLResourceTypeCluster, Name: "kafka-cluster", Pattern: lit, Operation: kmsg.ACLOperationCreate, Allow: true}
	data := []kfake.ACL{topicACL("vectors", kmsg.ACLOperationDescribe), topicACL("vectors", kmsg.ACLOperationRead)}
	dlq := []kfake.ACL{topicACL("vectors.dlq", kmsg.ACLOperationDescribe), topicACL("vectors.dlq", kmsg.ACLOperationWrite),
		topicACL("vectors.dlq", kmsg.ACLOperationDescribeConfigs)}
	// The control plane's transactional id, kafka-qdrant.control.
	txn := kfake.ACL{Resource: kmsg.ACLResourceTypeTransactionalId, Name: "kafka-qdrant.control", Pattern: lit, Operation: kmsg.ACLOperationWrite, Allow: true}
	var ctl []kfake.ACL // the control and status topics: kafka-qdrant.*
	for _, op := range []kmsg.ACLOperation{kmsg.ACLOperationDescribe, kmsg.ACLOperationRead, kmsg.ACLOperationWrite} {
		ctl = append(ctl, kfake.ACL{Resource: kmsg.ACLResourceTypeTopic, Name: "kafka-qdrant.", Pattern: pre, Operation: op, Allow: true})
	}
	all := func(acls ...[]kfake.ACL) []kfake.ACL {
		var out []kfake.ACL
		for _, a := range acls {
			out = append(out, a...)
		}
		return out
	}
	kc, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(2, "vectors", "vectors.dlq", "other"),
		kfake.EnableSASL(), kfake.EnableACLs(), kfake.Superuser("SCRAM-SHA-512", "admin", password),
		kfake.User("SCRAM-SHA-512", "kq", password, all(data, dlq, ctl, []kfake.ACL{groups, create, txn})...),
		kfake.User("SCRAM-SHA-512", "no-read", password, all([]kfake.ACL{topicACL("vectors", kmsg.ACLOperationDescribe)}, dlq, ctl, []kfake.ACL{groups, create, txn})...),
		kfake.User("SCRAM-SHA-512", "no-dlq-write", password, all(data, []kfake.ACL{topicACL("vectors.dlq", kmsg.ACLOperationDescribe), groups, create, txn}, ctl)...),
		kfake.User("SCRAM-SHA-512", "no-create", password, all(data, dlq, ctl, []kfake.ACL{groups, txn})...),
		kfake.User("SCRAM-SHA-512", "no-group", password, all(data, dlq, ctl, []kfake.ACL{create, txn})...),
		kfake.User("SCRAM-SHA-512", "no-txn", password, all(data, dlq, ctl, []kfake.ACL{groups, create})...),
	)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(kc.Close)

	ts := qdrantmem.NewTestServer(t, qdrantmem.WithAPIKey(apiKey))
	qc, err := qdrant.NewClient(&qdrant.Config{Host: "127.0.0.1", Port: port(t, ts.GRPC), APIKey: apiKey, SkipCompatibilityCheck: true})
	if err != nil {
		t.Fatal(err)
	}
	defer qc.Close()
	if err := qc.CreateCollection(context.Background(), &qdrant.CreateCollection{CollectionName: "vectors",
		VectorsConfig: qdrant.NewVectorsConfig(&qdrant.VectorParams{Size: 4, Distance: qdrant.Distance_Cosine})}); err != nil {
		t.Fatal(err)
	}
	if err := qc.CreateCollection(context.Background(), &qdrant.CreateCollection{CollectionName: "sparse",
		SparseVectorsConfig: qdrant.NewSparseVectorsConfig(map[string]*qdrant.SparseVectorParams{"s": {}})}); err != nil {
		t.Fatal(err)
	}
	return env{brokers: kc.ListenAddrs(), qdrant: ts}
}

func port(t *testing.T, addr string) int {
	t.Helper()
	_, p, err := net.SplitHostPort(addr)
	if err != nil {
		t.Fatal(err)
	}
	n, err := strconv.Atoi(p)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func (e env) config(t *testing.T) config.Config {
	c := config.Default()
	c.Kafka.Brokers = e.brokers
	c.Kafka.DLQTopic = "vectors.dlq"
	c.Kafka.DialTimeout = 2 * time.Second
	c.Kafka.SASL = config.SASL{Mechanism: "SCRAM-SHA-512", Username: "kq", Password: password}
	c.Qdrant.GRPC = e.qdrant.GRPC
	c.Qdrant.REST = e.qdrant.REST
	c.Qdrant.APIKey = apiKey
	c.Qdrant.Timeout = 2 * time.Second
	c.Backup.Store = "file://" + t.TempDir()
	return c
}

func TestCheck(t *testing.T) {
	e := newEnv(t)
	closed := closedAddr(t)
	tests := []struct {
		name    string
		mutate  func(*config.Config)
		wantErr []string // substrings of the error; none: success
		wantOut []string
	}{
		{"all reachable", func(*config.Config) {}, nil, []string{
			"ok   kafka", `SASL SCRAM-SHA-512 as "kq"`,
			"ok   topics      vectors (2 partitions) readable",
			"ok   dlq         vectors.dlq writable",
			"ok   control     kafka-qdrant.control does not exist yet; the replicas will create it",
			"ok   groups      kafka-qdrant, kafka-qdrant.control may be joined",
			"ok   txn         transactional id kafka-qdrant.control may be described (not used yet)",
			// kfake's default max.message.bytes (Kafka's, 1048588) is below
			// the default record.max_bytes (1 MiB) plus the DLQ headers.
			"WARN dlq         vectors.dlq: max.message.bytes is 1048588, below record.max_bytes (1048576) plus 8192 bytes of DLQ headers",
			"ok   qdrant", "version " + qdrantmem.Version, "API key accepted",
			"ok   rest", "ok   collections vectors (for topic vectors: 4-dim Cosine)",
			"collections named by records (collection_name) are not known in advance",
			"ok   backup",
		}},

		// Kafka.
		{"missing topic", func(c *config.Config) { c.Kafka.Topics = []string{"nope"} },
			[]string{"topics: nope: not found, or not permitted to describe it"}, []string{"FAIL topics"}},
		{"wrong SASL password", func(c *config.Config) { c.Kafka.SASL.Password = "wrong" },
			[]string{"kafka:", `SASL SCRAM-SHA-512 authentication as "kq" failed`}, []string{"FAIL kafka"}},
		{"no READ on the data topic", func(c *config.Config) { c.Kafka.SASL.Username = "no-read" },
			[]string{"vectors: not permitted to read it (ACL READ on the topic)"}, []string{"FAIL topics"}},
		{"no WRITE on the DLQ", func(c *config.Config) { c.Kafka.SASL.Username = "no-dlq-write" },
			[]string{"vectors.dlq: not permitted to write it (ACL WRITE on the topic)"}, []string{"FAIL dlq"}},
		{"control topics missing and not creatable", func(c *config.Config) { c.Kafka.SASL.Username = "no-create" },
			[]string{"kafka-qdrant.control: does not exist and this principal may not create it", "kafka-qdrant.status: does not exist"},
			[]string{"FAIL control"}},
		{"no ACL on the transactional id", func(c *config.Config) { c.Kafka.SASL.Username = "no-txn" },
			[]string{"txn: transactional id kafka-qdrant.control: not permitted to use it (ACL WRITE and DESCRIBE on the transactional id)"}, []string{"FAIL txn"}},
		{"control disabled: no transactional id", func(c *config.Config) {
			c.Kafka.SASL.Username = "no-txn"
			c.Control.Enabled = false
		}, nil, nil},
		{"no READ on the groups", func(c *config.Config) { c.Kafka.SASL.Username = "no-group" },
			[]string{"not permitted to use them (ACL READ on the groups)"}, []string{"FAIL groups"}},
		{"control disabled: its topics are not checked", func(c *config.Config) {
			c.Kafka.SASL.Username = "no-create"
			c.Control.Enabled = false
		}, nil, []string{"ok   groups      kafka-qdrant may be joined"}},
		{"topic_regex lists its matches", func(c *config.Config) {
			c.Kafka.Topics, c.Kafka.TopicRegex = nil, "^vec.*s$"
		}, nil, []string{"ok   topics      vectors (2 partitions) readable (matching kafka.topic_regex", "topics created later are not covered"}},
		{"topic_regex matching nothing", func(c *config.Config) {
			c.Kafka.Topics, c.Kafka.TopicRegex = nil, "^nothing"
		}, []string{`kafka.topic_regex "^nothing" matches no topic`}, nil},

		// Qdrant.
		{"wrong API key", func(c *config.Config) { c.Qdrant.APIKey = "wrong" },
			[]string{"qdrant rejected the API key (qdrant.api_key): Invalid API key or JWT"}, []string{"FAIL qdrant"}},
		{"no API key", func(c *config.Config) { c.Qdrant.APIKey = "" },
			[]string{"qdrant requires an API key and qdrant.api_key is empty"}, nil},
		{"qdrant unreachable", func(c *config.Config) { c.Qdrant.GRPC = closed }, []string{"qdrant", closed}, []string{"FAIL qdrant"}},
		{"REST unreachable", func(c *config.Config) { c.Qdrant.REST = "http://" + closed },
			[]string{"rest: qdrant.rest http://" + closed}, []string{"FAIL rest"}},
		{"routed collection missing", func(c *config.Config) { c.Routing.Topics = map[string]config.Route{"vectors": {Collection: "movies"}} },
			[]string{"collection movies (for topic vectors) does not exist"}, []string{"FAIL collections"}},
		{"routing.collection", func(c *config.Config) {
			c.Routing.Collection = "sparse"
			c.Routing.AllowRecordOverride = false
		}, nil, []string{"ok   collections sparse (for topic vectors: 1 sparse vectors)\n"}},

		// Backup store.
		{"backup store is a file", func(c *config.Config) { c.Backup.Store = "file:///etc/hostname" }, []string{"not a directory"}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := e.config(t)
			tc.mutate(&cfg)
			if err := cfg.Validate(); err != nil {
				t.Fatal(err)
			}
			var out bytes.Buffer
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			err := Check(ctx, cfg, &out, slog.New(slog.DiscardHandler))
			if len(tc.wantErr) == 0 && err != nil {
				t.Fatalf("Check = %v\n%s", err, out.String())
			}
			for _, w := range tc.wantErr {
				if err == nil || !strings.Contains(err.Error(), w) {
					t.Errorf("Check error %v does not mention %q\n%s", err, w, out.String())
				}
			}
			for _, w := range tc.wantOut {
				if !strings.Contains(out.String(), w) {
					t.Errorf("output lacks %q:\n%s", w, out.String())
				}
			}
			for _, secret := range []string{apiKey, password} {
				if strings.Contains(out.String(), secret) || err != nil && strings.Contains(err.Error(), secret) {
					t.Errorf("output or error shows a secret:\n%s\n%v", out.String(), err)
				}
			}
		})
	}
}

// TestDLQSize: no warning when the DLQ topic holds a record of
// record.max_bytes with its error headers.
func TestDLQSize(t *testing.T) {
	e := newEnv(t)
	for _, tc := range []struct {
		maxBytes config.ByteSize
		warn     bool
	}{{512 << 10, false}, {1048588 - dlqHeadroom, false}, {1048588 - dlqHeadroom + 1, true}} {
		cfg := e.config(t)
		cfg.Record.MaxBytes = tc.maxBytes
		var out bytes.Buffer
		if err := Check(t.Context(), cfg, &out, slog.New(slog.DiscardHandler)); err != nil {
			t.Fatalf("Check = %v\n%s", err, out.String())
		}
		if got := strings.Contains(out.String(), "WARN dlq"); got != tc.warn {
			t.Errorf("record.max_bytes %d: DLQ warning %v, want %v:\n%s", tc.maxBytes, got, tc.warn, out.String())
		}
	}
}

// TestCompactedDLQ: a compacted DLQ topic fails the check, as the replicas
// refuse it.
func TestCompactedDLQ(t *testing.T) {
	e := newEnv(t)
	cl, err := kgo.NewClient(kgo.SeedBrokers(e.brokers...),
		kgo.SASL(scram.Auth{User: "admin", Pass: password}.AsSha512Mechanism()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	compact := "compact,delete"
	resp, err := kadm.NewClient(cl).AlterTopicConfigs(t.Context(),
		[]kadm.AlterConfig{{Op: kadm.SetConfig, Name: "cleanup.policy", Value: &compact}}, "vectors.dlq")
	if err == nil {
		_, err = resp.On("vectors.dlq", nil)
	}
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	err = Check(t.Context(), e.config(t), &out, slog.New(slog.DiscardHandler))
	if err == nil || !strings.Contains(out.String(), "FAIL dlq         kafka.dlq_topic: topic vectors.dlq has cleanup.policy=compact,delete") {
		t.Errorf("Check = %v, want the compacted DLQ topic failed:\n%s", err, out.String())
	}
}

// TestControlTimestamps: with control.auth, a control topic that keeps the
// producers' timestamps is reported (kfake's topics are CreateTime).
func TestControlTimestamps(t *testing.T) {
	e := newEnv(t)
	cfg := e.config(t)
	cfg.Control.Topic = "vectors.dlq" // an existing topic the user may describe; its configs are readable
	cfg.Kafka.DLQTopic = ""
	cfg.Control.Auth = config.ControlAuth{Keys: map[string]config.Secret{"ops": "0123456789abcdef0123456789abcdef"}, Window: time.Minute}
	var out bytes.Buffer
	_ = Check(t.Context(), cfg, &out, slog.New(slog.DiscardHandler))
	if !strings.Contains(out.String(), "WARN auth        vectors.dlq: message.timestamp.type is CreateTime") {
		t.Errorf("no warning about the control topic's timestamps:\n%s", out.String())
	}
	cfg.Control.Auth = config.ControlAuth{}
	out.Reset()
	_ = Check(t.Context(), cfg, &out, slog.New(slog.DiscardHandler))
	if strings.Contains(out.String(), "WARN auth") {
		t.Errorf("warning without control.auth:\n%s", out.String())
	}
}

func TestRoutes(t *testing.T) {
	tests := []struct {
		name    string
		routing config.Routing
		topics  []string
		want    []route
	}{
		{"collection = topic", config.Routing{}, []string{"b", "a"},
			[]route{{"a", []string{"a"}}, {"b", []string{"b"}}}},
		{"routing.topics first, then routing.collection", config.Routing{Collection: "all", Topics: map[string]config.Route{"a": {Collection: "x"}}},
			[]string{"a", "b", "c"}, []route{{"all", []string{"b", "c"}}, {"x", []string{"a"}}}},
		{"no topics", config.Routing{Collection: "all"}, nil, []route{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := routes(tc.routing, tc.topics); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("routes = %+v, want %+v", got, tc.want)
			}
		})
	}
}

func TestDirStore(t *testing.T) {
	dir := t.TempDir()
	if detail, err := checkDirStore(dir); err != nil || !strings.Contains(detail, "writable directory") {
		t.Errorf("existing dir: %q, %v", detail, err)
	}
	missing := filepath.Join(dir, "a", "b")
	detail, err := checkDirStore(missing)
	if err != nil || !strings.Contains(detail, "does not exist yet; "+dir+" is writable") {
		t.Errorf("missing dir: %q, %v", detail, err)
	}
	if _, err := os.Stat(missing); !os.IsNotExist(err) {
		t.Errorf("the check created %s", missing)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("the check left files behind: %v", entries)
	}
}

// TestS3Store probes a real S3 server (versitygw) through the store's
// signed client: good credentials pass; a wrong secret, an unknown key, a
// missing bucket and an unreachable endpoint fail with what went wrong.
func TestS3Store(t *testing.T) {
	srv := s3test.Start(t)
	bucket := fmt.Sprintf("kq-validate-%d", time.Now().UnixNano())
	ctx := t.Context()
	c := s3.New(s3.Options{Region: srv.Region, BaseEndpoint: aws.String(srv.Endpoint), UsePathStyle: true,
		Credentials: credentials.NewStaticCredentialsProvider(srv.AccessKey, srv.SecretKey, "")})
	if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(bucket)}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _, _ = c.DeleteBucket(context.Background(), &s3.DeleteBucketInput{Bucket: aws.String(bucket)}) })
	good := config.Backup{Store: "s3://" + bucket + "/prod", S3: config.S3{Endpoint: srv.Endpoint, Region: srv.Region, PathStyle: true,
		AccessKeyID: srv.AccessKey, SecretAccessKey: config.Secret(srv.SecretKey)}}

	detail, err := checkBackupStore(ctx, good)
	if err != nil || !strings.Contains(detail, "s3://"+bucket+"/prod answers a signed list at "+srv.Endpoint) {
		t.Errorf("good store: %q, %v", detail, err)
	}
	for _, tc := range []struct {
		name string
		edit func(*config.Backup)
		want string
	}{
		{"wrong secret", func(b *config.Backup) { b.S3.SecretAccessKey = "not-the-secret" }, "refused the credentials (SignatureDoesNotMatch)"},
		{"unknown key", func(b *config.Backup) { b.S3.AccessKeyID = "nobody" }, "refused the credentials"},
		{"missing bucket", func(b *config.Backup) { b.Store = "s3://" + bucket + "-missing/prod" }, "does not exist"},
		{"unreachable endpoint", func(b *config.Backup) { b.S3.Endpoint = "http://" + closedAddr(t) }, "connection refused"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := good
			tc.edit(&b)
			ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
			defer cancel()
			_, err := checkBackupStore(ctx, b)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got %v, want an error containing %q", err, tc.want)
			}
		})
	}
}

func TestOffline(t *testing.T) {
	cfg := config.Default()
	cfg.Kafka.Brokers = []string{closedAddr(t)}
	cfg.Qdrant.GRPC = closedAddr(t)
	cfg.Qdrant.APIKey = apiKey
	var out bytes.Buffer
	if err := Offline(cfg, &out); err != nil {
		t.Fatalf("Offline = %v\n%s", err, out.String())
	}
	for _, w := range []string{"ok   config", "ok   kafka", "(not dialled)", "API key set"} {
		if !strings.Contains(out.String(), w) {
			t.Errorf("output lacks %q:\n%s", w, out.String())
		}
	}
	if strings.Contains(out.String(), apiKey) {
		t.Errorf("output shows the API key:\n%s", out.String())
	}
}

// closedAddr is an address nothing listens on.
func closedAddr(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

func TestMay(t *testing.T) {
	bit := func(ops ...kmsg.ACLOperation) int32 {
		var b int32
		for _, op := range ops {
			b |= 1 << int32(op)
		}
		return b
	}
	for _, tc := range []struct {
		name           string
		ops            int32
		allowed, known bool
	}{
		{"not reported (MinInt32)", math.MinInt32, false, false},
		{"zero from a server that does not fill it", 0, false, false},
		{"describe and read", bit(kmsg.ACLOperationDescribe, kmsg.ACLOperationRead), true, true},
		{"describe only", bit(kmsg.ACLOperationDescribe), false, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			allowed, known := may(tc.ops, kmsg.ACLOperationRead)
			if allowed != tc.allowed || known != tc.known {
				t.Errorf("may(%b, READ) = %v, %v; want %v, %v", tc.ops, allowed, known, tc.allowed, tc.known)
			}
		})
	}
}
