package sink

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"log"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/qdrant/go-client/qdrant"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/seed-a550a1ef/kafka-qdrant/config"
	"github.com/seed-a550a1ef/kafka-qdrant/internal/testpki"
)

func TestParseGRPCAddr(t *testing.T) {
	tests := []struct {
		in      string
		host    string
		port    int
		tls     bool
		wantErr string
	}{
		{in: "localhost:6334", host: "localhost", port: 6334},
		{in: "qdrant.svc:7000", host: "qdrant.svc", port: 7000},
		{in: "http://qdrant:6334", host: "qdrant", port: 6334},
		{in: "https://cloud.qdrant.io:6334", host: "cloud.qdrant.io", port: 6334, tls: true},
		{in: "qdrant", host: "qdrant", port: 6334},
		{in: "[::1]:6334", host: "::1", port: 6334},
		{in: "[::1]", host: "::1", port: 6334},
		{in: ":6334", host: "localhost", port: 6334},
		{in: "", wantErr: "qdrant.grpc: empty address"},
		{in: "host:port", wantErr: "invalid port"},
		{in: "host:0", wantErr: "invalid port"},
		{in: "host:70000", wantErr: "invalid port"},
		{in: "host/path:1", wantErr: "is not host:port"},
		{in: "http://host:1/x", wantErr: "is not host:port"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			host, port, useTLS, err := parseGRPCAddr(tt.in)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want it to contain %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || host != tt.host || port != tt.port || useTLS != tt.tls {
				t.Fatalf("= %q %d %v %v; want %q %d %v", host, port, useTLS, err, tt.host, tt.port, tt.tls)
			}
		})
	}
}

// recordingServer is a gRPC server that answers every method with handle
// and reports the metadata of each call.
type recordingServer struct {
	addr string
	md   chan metadata.MD
}

func startServer(t *testing.T, handle func(stream grpc.ServerStream) error, opts ...grpc.ServerOption) *recordingServer {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	rs := &recordingServer{addr: lis.Addr().String(), md: make(chan metadata.MD, 16)}
	opts = append(opts, grpc.UnknownServiceHandler(func(_ any, stream grpc.ServerStream) error {
		md, _ := metadata.FromIncomingContext(stream.Context())
		rs.md <- md
		return handle(stream)
	}))
	srv := grpc.NewServer(opts...)
	go func() { _ = srv.Serve(lis) }()
	t.Cleanup(srv.Stop)
	return rs
}

func unimplemented(grpc.ServerStream) error { return status.Error(codes.Unimplemented, "test server") }

func callUpdateBatch(t *testing.T, c *qdrant.Client) error {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, err := PooledPoints(c).UpdateBatch(ctx, &qdrant.UpdateBatchPoints{CollectionName: "c"})
	return err
}

// The API key reaches the server as the api-key header, on every pooled
// connection.
func TestNewClientSendsAPIKey(t *testing.T) {
	rs := startServer(t, unimplemented)
	c, err := NewClient(config.Qdrant{GRPC: rs.addr, APIKey: "s3cret"})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for i := range 4 {
		if err := callUpdateBatch(t, c); status.Code(err) != codes.Unimplemented {
			t.Fatalf("call %d: %v, want the server's Unimplemented", i, err)
		}
		md := <-rs.md
		if got := md.Get("api-key"); len(got) != 1 || got[0] != "s3cret" {
			t.Fatalf("call %d: api-key header %v, want [s3cret]", i, got)
		}
	}
}

func TestNewClientWithoutAPIKeySendsNone(t *testing.T) {
	rs := startServer(t, unimplemented)
	c, err := NewClient(config.Qdrant{GRPC: rs.addr})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = callUpdateBatch(t, c)
	if got := (<-rs.md).Get("api-key"); len(got) != 0 {
		t.Fatalf("api-key header %v, want none", got)
	}
}

// NewClient does not need a reachable server.
func TestNewClientIsLazy(t *testing.T) {
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := lis.Addr().String()
	lis.Close()
	start := time.Now()
	c, err := NewClient(config.Qdrant{GRPC: addr})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if time.Since(start) > 2*time.Second {
		t.Fatal("NewClient blocked on an unreachable server")
	}
	if err := callUpdateBatch(t, c); status.Code(err) != codes.Unavailable {
		t.Fatalf("call to a closed port: %v, want Unavailable", err)
	}
}

// Responses above gRPC's default 4 MiB receive limit get through.
func TestNewClientReceivesLargeMessages(t *testing.T) {
	big := strings.Repeat("x", 6<<20)
	rs := startServer(t, func(stream grpc.ServerStream) error {
		var req qdrant.GetCollectionInfoRequest
		if err := stream.RecvMsg(&req); err != nil {
			return err
		}
		return stream.SendMsg(&qdrant.GetCollectionInfoResponse{Result: &qdrant.CollectionInfo{
			Warnings: []*qdrant.CollectionWarning{{Message: big}}}})
	})
	c, err := NewClient(config.Qdrant{GRPC: rs.addr})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	resp, err := c.GetCollectionsClient().Get(ctx, &qdrant.GetCollectionInfoRequest{CollectionName: "c"})
	if err != nil {
		t.Fatalf("6 MiB response: %v", err)
	}
	if got := len(resp.GetResult().GetWarnings()[0].GetMessage()); got != len(big) {
		t.Fatalf("got %d bytes, want %d", got, len(big))
	}
}

func TestNewClientTLS(t *testing.T) {
	dir := t.TempDir()
	ca := testpki.New(t)
	server := ca.Issue(t, "localhost", x509.ExtKeyUsageServerAuth)
	client := ca.Issue(t, "kafka-qdrant", x509.ExtKeyUsageClientAuth)
	serverCert, caFile, certFile, keyFile, pool := server.Pair, ca.File, client.CertFile, client.KeyFile, ca.Pool

	tlsServer := startServer(t, unimplemented, grpc.Creds(credentials.NewTLS(&tls.Config{Certificates: []tls.Certificate{serverCert}})))
	mtlsServer := startServer(t, unimplemented, grpc.Creds(credentials.NewTLS(&tls.Config{
		Certificates: []tls.Certificate{serverCert}, ClientAuth: tls.RequireAndVerifyClientCert, ClientCAs: pool})))

	tests := []struct {
		name     string
		addr     string
		tls      config.TLS
		reaches  bool
		buildErr string
	}{
		{"ca file verifies the server", tlsServer.addr, config.TLS{Enabled: true, CAFile: caFile, ServerName: "localhost"}, true, ""},
		{"wrong server name fails", tlsServer.addr, config.TLS{Enabled: true, CAFile: caFile, ServerName: "other"}, false, ""},
		{"unknown CA fails", tlsServer.addr, config.TLS{Enabled: true, ServerName: "localhost"}, false, ""},
		{"insecure skip verify", tlsServer.addr, config.TLS{Enabled: true, InsecureSkipVerify: true}, true, ""},
		{"plaintext to a TLS server fails", tlsServer.addr, config.TLS{}, false, ""},
		{"client certificate for mTLS", mtlsServer.addr, config.TLS{Enabled: true, CAFile: caFile, ServerName: "localhost", CertFile: certFile, KeyFile: keyFile}, true, ""},
		{"mTLS without client certificate fails", mtlsServer.addr, config.TLS{Enabled: true, CAFile: caFile, ServerName: "localhost"}, false, ""},
		{"missing ca file", tlsServer.addr, config.TLS{Enabled: true, CAFile: filepath.Join(dir, "nope.pem")}, false, "qdrant.tls: ca_file"},
		{"ca file without PEM", tlsServer.addr, config.TLS{Enabled: true, CAFile: writePEMRaw(t, dir, "junk.pem", "junk")}, false, "no PEM certificate"},
		{"cert without key", tlsServer.addr, config.TLS{Enabled: true, CertFile: certFile}, false, "cert_file and key_file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := NewClient(config.Qdrant{GRPC: tt.addr, TLS: tt.tls})
			if tt.buildErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.buildErr) {
					t.Fatalf("NewClient err = %v, want %q", err, tt.buildErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			err = callUpdateBatch(t, c)
			if reached := status.Code(err) == codes.Unimplemented; reached != tt.reaches {
				t.Fatalf("call: %v; reached server = %v, want %v", err, reached, tt.reaches)
			}
		})
	}
}

func writePEMRaw(t *testing.T, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// Issue 7 item 8: the go-client's "API key is being used without TLS"
// warning went to slog.Default (the standard log package unless the
// process set a default) once per pooled connection, on every NewClient.
// NewClient logs nothing; PlaintextAPIKey tells the caller to warn once.
func TestNewClientDoesNotLogPlaintextKeyWarning(t *testing.T) {
	var buf bytes.Buffer
	prevOut, prevFlags := log.Writer(), log.Flags()
	log.SetOutput(&buf)
	prevDefault := slog.Default()
	slog.SetDefault(slog.New(slog.NewTextHandler(&buf, nil)))
	t.Cleanup(func() {
		log.SetOutput(prevOut)
		log.SetFlags(prevFlags)
		slog.SetDefault(prevDefault)
	})
	rs := startServer(t, unimplemented)
	for range 2 {
		c, err := NewClient(config.Qdrant{GRPC: rs.addr, APIKey: "s3cret"})
		if err != nil {
			t.Fatal(err)
		}
		_ = callUpdateBatch(t, c) // the key still travels
		if got := (<-rs.md).Get("api-key"); len(got) != 1 || got[0] != "s3cret" {
			t.Fatalf("api-key header %v, want [s3cret]", got)
		}
		c.Close()
	}
	if buf.Len() != 0 {
		t.Fatalf("NewClient logged through the default loggers:\n%s", buf.String())
	}
}

func TestPlaintextAPIKey(t *testing.T) {
	for _, tc := range []struct {
		cfg  config.Qdrant
		want bool
	}{
		{config.Qdrant{GRPC: "q:6334", APIKey: "k"}, true},
		{config.Qdrant{GRPC: "http://q:6334", APIKey: "k"}, true},
		{config.Qdrant{GRPC: "q:6334"}, false},
		{config.Qdrant{GRPC: "https://q:6334", APIKey: "k"}, false},
		{config.Qdrant{GRPC: "q:6334", APIKey: "k", TLS: config.TLS{Enabled: true}}, false},
	} {
		if got := PlaintextAPIKey(tc.cfg); got != tc.want {
			t.Errorf("PlaintextAPIKey(%s, key %v, tls %v) = %v, want %v", tc.cfg.GRPC, tc.cfg.APIKey != "", tc.cfg.TLS.Enabled, got, tc.want)
		}
	}
}
