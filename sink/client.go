package sink

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"

	"github.com/qdrant/go-client/qdrant"
	"google.golang.org/grpc"

	"github.com/seed-a550a1ef/kafka-qdrant/config"
)

// Client connection parameters that config does not expose.
const (
	// maxMessageBytes bounds gRPC messages both ways. gRPC's default
	// receive limit (4 MiB) is too small for large scrolls and collection
	// infos; Qdrant itself does not limit what it decodes.
	maxMessageBytes = 256 << 20
	// keepAliveSeconds / keepAliveTimeoutSeconds: ping an idle connection
	// every 20s and drop it when a ping is not answered within 10s, so a
	// dead Qdrant node is noticed without waiting for a call timeout.
	keepAliveSeconds        = 20
	keepAliveTimeoutSeconds = 10
)

// NewClient builds a Qdrant client from the qdrant section of the config:
// address (qdrant.grpc, "host:port"; an "https://" prefix turns TLS on,
// "http://" is ignored; no port means 6334), API key (sent as the api-key
// header through the go-client's own interceptor; NewClient logs nothing,
// see PlaintextAPIKey), TLS (qdrant.tls),
// keepalive pings and 256 MiB message limits. It does not connect: gRPC
// connects lazily, so it succeeds while Qdrant is down, and it skips the
// go-client's version probe (which blocks up to a minute on a down
// server). Callers that must reach Qdrant (validate) call HealthCheck.
//
// The client holds a pool of connections; use PooledPoints to spread the
// writer's calls over all of them. Interceptors added later must use
// grpc.WithChainUnaryInterceptor: grpc.WithUnaryInterceptor replaces the
// one that sends the API key.
//
// The one function used by the connector, the control plane and validate.
func NewClient(cfg config.Qdrant) (*qdrant.Client, error) {
	host, port, useTLS, err := parseGRPCAddr(cfg.GRPC)
	if err != nil {
		return nil, err
	}
	if strings.Contains(host, ":") {
		host = "[" + host + "]" // the go-client joins host and port with a bare ':'
	}
	qc := &qdrant.Config{
		Host:                   host,
		Port:                   port,
		SkipCompatibilityCheck: true,
		KeepAliveTime:          keepAliveSeconds,
		KeepAliveTimeout:       keepAliveTimeoutSeconds,
		GrpcOptions: []grpc.DialOption{grpc.WithDefaultCallOptions(
			grpc.MaxCallRecvMsgSize(maxMessageBytes),
			grpc.MaxCallSendMsgSize(maxMessageBytes),
		)},
	}
	if key := cfg.APIKey.Reveal(); key != "" {
		// Sent by the go-client's metadata interceptor as Config.APIKey
		// would be, but without its "API key is being used without TLS"
		// warning, which goes to slog.Default once per pooled connection on
		// every NewClient. Callers warn once: see PlaintextAPIKey.
		qc.Headers = map[string]string{apiKeyHeader: key}
	}
	if cfg.TLS.Enabled || useTLS {
		tc, err := tlsConfig(cfg.TLS)
		if err != nil {
			return nil, err
		}
		qc.UseTLS, qc.TLSConfig = true, tc
	}
	c, err := qdrant.NewClient(qc)
	if err != nil {
		return nil, fmt.Errorf("creating qdrant client for %s: %w", cfg.GRPC, err)
	}
	return c, nil
}

// apiKeyHeader is the metadata key Qdrant reads the API key from
// (src/tonic/auth.rs).
const apiKeyHeader = "api-key"

// PlaintextAPIKey reports whether cfg sends an API key over a connection
// without TLS, where anyone on the path can read it. NewClient does not log
// it; the process warns once at start.
func PlaintextAPIKey(cfg config.Qdrant) bool {
	if cfg.APIKey.Reveal() == "" || cfg.TLS.Enabled {
		return false
	}
	_, _, useTLS, err := parseGRPCAddr(cfg.GRPC)
	return err == nil && !useTLS
}

// parseGRPCAddr splits qdrant.grpc into host and port.
func parseGRPCAddr(addr string) (host string, port int, useTLS bool, err error) {
	s := strings.TrimSpace(addr)
	switch {
	case strings.HasPrefix(s, "https://"):
		s, useTLS = strings.TrimPrefix(s, "https://"), true
	case strings.HasPrefix(s, "http://"):
		s = strings.TrimPrefix(s, "http://")
	}
	s = strings.TrimSuffix(s, "/")
	if s == "" {
		return "", 0, false, errors.New(`qdrant.grpc: empty address, want "host:port"`)
	}
	if strings.ContainsAny(s, "/?#@ ") {
		return "", 0, false, fmt.Errorf("qdrant.grpc: %q is not host:port", addr)
	}
	h, p, splitErr := net.SplitHostPort(s)
	if splitErr != nil {
		// No port: the whole thing is the host, on Qdrant's gRPC port.
		if strings.Count(s, ":") == 1 {
			return "", 0, false, fmt.Errorf("qdrant.grpc: %q is not host:port: %w", addr, splitErr)
		}
		return strings.Trim(s, "[]"), 6334, useTLS, nil
	}
	n, convErr := strconv.Atoi(p)
	if convErr != nil || n <= 0 || n > 65535 {
		return "", 0, false, fmt.Errorf("qdrant.grpc: %q has an invalid port %q", addr, p)
	}
	if h == "" {
		h = "localhost"
	}
	return h, n, useTLS, nil
}

// tlsConfig builds the client TLS config from qdrant.tls with the one
// builder every client uses (config.TLS.Build: ca_file, else the system
// roots; a client certificate when cert_file and key_file are set), also
// when TLS is implied by an https:// address rather than enabled.
func tlsConfig(t config.TLS) (*tls.Config, error) {
	t.Enabled = true
	tc, err := t.Build()
	if err != nil {
		return nil, fmt.Errorf("qdrant.tls: %w", err)
	}
	return tc, nil
}

// PooledPoints returns a PointsAPI that spreads calls round-robin over the
// client's connection pool; client.GetPointsClient() is bound to one
// connection.
func PooledPoints(c *qdrant.Client) PointsAPI { return pooledPoints{c} }

type pooledPoints struct{ c *qdrant.Client }

func (p pooledPoints) UpdateBatch(ctx context.Context, in *qdrant.UpdateBatchPoints, opts ...grpc.CallOption) (*qdrant.UpdateBatchResponse, error) {
	return p.c.GetPointsClient().UpdateBatch(ctx, in, opts...)
}

func (p pooledPoints) Get(ctx context.Context, in *qdrant.GetPoints, opts ...grpc.CallOption) (*qdrant.GetResponse, error) {
	return p.c.GetPointsClient().Get(ctx, in, opts...)
}

func (p pooledPoints) CreateFieldIndex(ctx context.Context, in *qdrant.CreateFieldIndexCollection, opts ...grpc.CallOption) (*qdrant.PointsOperationResponse, error) {
	return p.c.GetPointsClient().CreateFieldIndex(ctx, in, opts...)
}
