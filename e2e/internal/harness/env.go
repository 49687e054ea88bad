package harness

import (
	"context"
	"debug/buildinfo"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/qdrant/go-client/qdrant"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// Env is the world one test run uses: the servers, the binary under test,
// and shared clients. Create it once (in TestMain) with Setup; Close stops
// what Setup started.
type Env struct {
	Kafka  KafkaEnv
	Qdrant QdrantEnv
	// S3 is nil when the environment has no S3 server (embedded).
	S3 *S3Env
	// Binary is the path of the kafka-qdrant binary under test.
	Binary string
	// BinaryVersion is its `version` output.
	BinaryVersion string
	// LogDir holds the logs of every process of the run.
	LogDir string

	// Client produces records and backs Admin; safe for concurrent use.
	Client *kgo.Client
	Admin  *kadm.Client
	// QdrantClient talks to Qdrant directly (not through any proxy).
	QdrantClient *qdrant.Client

	closers []func()
	// backupBucket is the S3 bucket of the run's backups (backup.go).
	backupBucket backupBucket
}

// KafkaEnv says which Kafka the run uses.
type KafkaEnv struct {
	Kind    string // embedded, real-local, external, docker
	Brokers []string
	Version string // from ApiVersions, filled by Setup
}

// QdrantEnv says which Qdrant the run uses.
type QdrantEnv struct {
	Kind    string // embedded, external, docker
	GRPC    string // host:port
	REST    string // base URL
	APIKey  string
	TLS     bool
	Version string // from HealthCheck, filled by Setup
}

// S3Env says which S3 server the run uses.
type S3Env struct {
	Kind      string // real-local, external, docker
	Endpoint  string
	AccessKey string
	SecretKey string
	Region    string
	Server    string // label, e.g. "versitygw v1.8.0"
}

// Setup resolves the environment from the KQ_E2E_* variables (see the
// package doc), builds the binary, starts the servers that are neither
// external nor already running, and checks each answers. On error it has
// stopped whatever it started.
func Setup(ctx context.Context) (_ *Env, err error) {
	e := &Env{}
	defer func() {
		if err != nil {
			e.Close()
		}
	}()
	if e.LogDir, err = logDir(); err != nil {
		return nil, err
	}
	binDir, err := os.MkdirTemp("", "kq-e2e-bin-")
	if err != nil {
		return nil, fmt.Errorf("creating binary dir: %w", err)
	}
	e.closers = append(e.closers, func() { os.RemoveAll(binDir) })
	if e.Binary, err = BuildBinary(ctx, binDir); err != nil {
		return nil, err
	}
	e.BinaryVersion = BinaryVersion(ctx, e.Binary)

	useDocker, err := dockerWanted()
	if err != nil {
		return nil, err
	}
	if err := e.setupKafka(ctx, useDocker); err != nil {
		return nil, err
	}
	if err := e.setupQdrant(ctx, useDocker); err != nil {
		return nil, err
	}
	if err := e.setupS3(ctx, useDocker); err != nil {
		return nil, err
	}
	if err := e.connect(ctx); err != nil {
		return nil, err
	}
	return e, nil
}

func (e *Env) setupKafka(ctx context.Context, useDocker bool) error {
	if brokers := os.Getenv("KQ_E2E_KAFKA_BROKERS"); brokers != "" {
		e.Kafka = KafkaEnv{Kind: envOr("KQ_E2E_KAFKA_ENV", "external"), Brokers: splitList(brokers)}
		return nil
	}
	if useDocker {
		addr, stop, err := dockerKafka(ctx)
		if err != nil {
			return err
		}
		e.closers = append(e.closers, stop)
		e.Kafka = KafkaEnv{Kind: "docker", Brokers: []string{addr}}
		return nil
	}
	addr, err := freeAddr()
	if err != nil {
		return err
	}
	dataDir := filepath.Join(e.LogDir, "kfake-data")
	p, line, err := e.startDev(ctx, "dev-kafka", "dev", "kafka", "--addr", addr, "--data-dir", dataDir)
	if err != nil {
		return err
	}
	e.Kafka = KafkaEnv{Kind: "embedded", Brokers: readyAddrs(line, addr)}
	_ = p
	return nil
}

func (e *Env) setupQdrant(ctx context.Context, useDocker bool) error {
	if grpcAddr := os.Getenv("KQ_E2E_QDRANT_GRPC"); grpcAddr != "" {
		e.Qdrant = QdrantEnv{
			Kind:   envOr("KQ_E2E_QDRANT_ENV", "external"),
			GRPC:   grpcAddr,
			REST:   os.Getenv("KQ_E2E_QDRANT_REST"),
			APIKey: os.Getenv("KQ_E2E_QDRANT_API_KEY"),
			TLS:    os.Getenv("KQ_E2E_QDRANT_TLS") == "1",
		}
		if e.Qdrant.REST == "" {
			e.Qdrant.REST = defaultREST(grpcAddr, e.Qdrant.TLS)
		}
		return nil
	}
	if useDocker {
		grpcAddr, rest, stop, err := dockerQdrant(ctx)
		if err != nil {
			return err
		}
		e.closers = append(e.closers, stop)
		e.Qdrant = QdrantEnv{Kind: "docker", GRPC: grpcAddr, REST: rest}
		return nil
	}
	grpcAddr, err := freeAddr()
	if err != nil {
		return err
	}
	restAddr, err := freeAddr()
	if err != nil {
		return err
	}
	if _, _, err := e.startDev(ctx, "dev-qdrant", "dev", "qdrant", "--grpc", grpcAddr, "--rest", restAddr); err != nil {
		return err
	}
	e.Qdrant = QdrantEnv{Kind: "embedded", GRPC: grpcAddr, REST: "http://" + restAddr}
	return nil
}

func (e *Env) setupS3(ctx context.Context, useDocker bool) error {
	if endpoint := os.Getenv("KQ_E2E_S3_ENDPOINT"); endpoint != "" {
		e.S3 = &S3Env{
			Kind:      envOr("KQ_E2E_S3_ENV", "external"),
			Endpoint:  endpoint,
			AccessKey: os.Getenv("KQ_E2E_S3_ACCESS_KEY"),
			SecretKey: os.Getenv("KQ_E2E_S3_SECRET_KEY"),
			Region:    envOr("KQ_E2E_S3_REGION", "us-east-1"),
			Server:    envOr("KQ_E2E_S3_SERVER", "unknown server"),
		}
		return nil
	}
	if useDocker {
		s3, stop, err := dockerS3(ctx)
		if err != nil {
			return err
		}
		e.closers = append(e.closers, stop)
		e.S3 = s3
	}
	return nil
}

// defaultREST is Qdrant's REST URL on its default port (6333) on the host
// of the gRPC address.
func defaultREST(grpcAddr string, useTLS bool) string {
	host, _, err := net.SplitHostPort(grpcAddr)
	if err != nil {
		host = grpcAddr
	}
	scheme := "http"
	if useTLS {
		scheme = "https"
	}
	return scheme + "://" + net.JoinHostPort(host, "6333")
}

// startDev starts one `kafka-qdrant dev ...` server and waits for its
// "ready" line.
func (e *Env) startDev(ctx context.Context, name string, args ...string) (*Process, string, error) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	p, line, err := StartProcess(ctx, name, filepath.Join(e.LogDir, name+".log"), "ready", e.Binary, args...)
	if err != nil {
		return nil, "", err
	}
	e.closers = append(e.closers, func() { p.Stop(10 * time.Second) })
	return p, line, nil
}

// connect creates the shared clients and asks each server for its version.
func (e *Env) connect(ctx context.Context) error {
	var err error
	e.Client, err = kgo.NewClient(
		kgo.SeedBrokers(e.Kafka.Brokers...),
		kgo.ProducerLinger(5*time.Millisecond),
		kgo.RecordRetries(10),
	)
	if err != nil {
		return fmt.Errorf("creating Kafka client: %w", err)
	}
	e.closers = append(e.closers, e.Client.Close)
	e.Admin = kadm.NewClient(e.Client)
	if e.Kafka.Version, err = kafkaVersion(ctx, e.Admin); err != nil {
		return err
	}
	if e.Kafka.Kind == "embedded" {
		// kfake answers ApiVersions with what it implements, which no
		// Kafka release matches; name the module instead.
		e.Kafka.Version = "kfake " + moduleVersion(e.Binary, "github.com/twmb/franz-go/pkg/kfake") + " (" + e.Kafka.Version + ")"
	}

	e.QdrantClient, err = NewQdrantClient(e.Qdrant.GRPC, e.Qdrant.APIKey, e.Qdrant.TLS)
	if err != nil {
		return err
	}
	e.closers = append(e.closers, func() { e.QdrantClient.Close() })
	hctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	for {
		reply, err := e.QdrantClient.HealthCheck(hctx)
		if err == nil {
			e.Qdrant.Version = reply.GetTitle() + " " + reply.GetVersion()
			break
		}
		if hctx.Err() != nil {
			return fmt.Errorf("qdrant health check at %s: %w", e.Qdrant.GRPC, err)
		}
		time.Sleep(200 * time.Millisecond)
	}

	if e.S3 != nil {
		if err := ProbeS3(ctx, e.S3); err != nil {
			return err
		}
	}
	return nil
}

// kafkaVersion asks every broker for its API versions and returns the
// version franz-go guesses from them (Kafka has no "server version" RPC).
func kafkaVersion(ctx context.Context, adm *kadm.Client) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	for {
		vs, err := adm.ApiVersions(ctx)
		if err == nil {
			var guesses []string
			vs.Each(func(v kadm.BrokerApiVersions) {
				if v.Err != nil {
					err = errors.Join(err, v.Err)
					return
				}
				guesses = append(guesses, fmt.Sprintf("broker %d: %s", v.NodeID, v.VersionGuess()))
			})
			if err == nil && len(guesses) > 0 {
				return strings.Join(guesses, "; "), nil
			}
		}
		if ctx.Err() != nil {
			return "", fmt.Errorf("asking Kafka for API versions: %w", err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// moduleVersion returns the version of a module linked into the binary
// at bin, or "(unknown)".
func moduleVersion(bin, path string) string {
	if bi, err := buildinfo.ReadFile(bin); err == nil {
		for _, m := range bi.Deps {
			if m.Path == path {
				return m.Version
			}
		}
	}
	return "(unknown)"
}

// Describe says which environment the run uses, with server versions.
func (e *Env) Describe() string {
	var b strings.Builder
	fmt.Fprintf(&b, "e2e environment:\n")
	fmt.Fprintf(&b, "  binary: %s (%s)\n", e.Binary, e.BinaryVersion)
	fmt.Fprintf(&b, "  kafka:  %s at %s — %s\n", e.Kafka.Kind, strings.Join(e.Kafka.Brokers, ","), e.Kafka.Version)
	fmt.Fprintf(&b, "  qdrant: %s at grpc %s rest %s — %s\n", e.Qdrant.Kind, e.Qdrant.GRPC, e.Qdrant.REST, e.Qdrant.Version)
	if e.S3 != nil {
		fmt.Fprintf(&b, "  s3:     %s at %s — %s (put/get checked)\n", e.S3.Kind, e.S3.Endpoint, e.S3.Server)
	} else {
		fmt.Fprintf(&b, "  s3:     none\n")
	}
	fmt.Fprintf(&b, "  logs:   %s\n", e.LogDir)
	return b.String()
}

// Close stops everything Setup started, in reverse order.
func (e *Env) Close() {
	for i := len(e.closers) - 1; i >= 0; i-- {
		e.closers[i]()
	}
	e.closers = nil
}

// logDir creates the run's log directory.
func logDir() (string, error) {
	dir := os.Getenv("KQ_E2E_LOG_DIR")
	if dir == "" {
		dir = filepath.Join("logs", time.Now().Format("20060102-150405")+fmt.Sprintf("-%d", os.Getpid()))
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", fmt.Errorf("resolving log dir: %w", err)
	}
	if err := os.MkdirAll(abs, 0o755); err != nil {
		return "", fmt.Errorf("creating log dir: %w", err)
	}
	return abs, nil
}

// freeAddr returns 127.0.0.1:port for a port that was free a moment ago.
func freeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("finding a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().String(), nil
}

// readyAddrs returns the addresses of a "ready <addr...>" line, or def.
func readyAddrs(line, def string) []string {
	f := strings.Fields(line)
	if len(f) < 2 {
		return []string{def}
	}
	var addrs []string
	for _, a := range f[1:] {
		addrs = append(addrs, splitList(a)...)
	}
	return addrs
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

func envOr(key, def string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return def
}
