package config

import (
	"context"
	"crypto/tls"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// handshake runs a TLS handshake over loopback TCP between a client using
// cfg (dialling serverName) and a server using srv. It returns the first
// error of either side.
func handshake(t *testing.T, cfg *tls.Config, srv *tls.Config, serverName string) error {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	srvErr := make(chan error, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			srvErr <- err
			return
		}
		defer c.Close()
		srvErr <- tls.Server(c, srv).HandshakeContext(ctx)
	}()
	cfg = cfg.Clone()
	if cfg.ServerName == "" {
		cfg.ServerName = serverName // what a dialer (kgo, grpc) fills in from the address
	}
	conn, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	cliErr := tls.Client(conn, cfg).HandshakeContext(ctx)
	if cliErr != nil {
		conn.Close()
		<-srvErr
		return cliErr
	}
	return <-srvErr
}

func TestTLSBuildHandshake(t *testing.T) {
	p := newTestPKI(t)
	other := newTestPKI(t) // a CA that did not sign the server
	serverTLS := &tls.Config{Certificates: []tls.Certificate{p.server}}
	mutualTLS := &tls.Config{Certificates: []tls.Certificate{p.server}, ClientAuth: tls.RequireAndVerifyClientCert, ClientCAs: p.caPool}

	tests := []struct {
		name       string
		tls        TLS
		server     *tls.Config
		serverName string
		wantErr    string // "" means the handshake succeeds
	}{
		{name: "CA file verifies server", tls: TLS{Enabled: true, CAFile: p.caFile}, server: serverTLS, serverName: "localhost"},
		{name: "wrong CA fails", tls: TLS{Enabled: true, CAFile: other.caFile}, server: serverTLS, serverName: "localhost",
			wantErr: "certificate signed by unknown authority"},
		{name: "system roots do not trust a private CA", tls: TLS{Enabled: true}, server: serverTLS, serverName: "localhost",
			wantErr: "certificate"},
		{name: "server name mismatch fails", tls: TLS{Enabled: true, CAFile: p.caFile}, server: serverTLS, serverName: "kafka.example",
			wantErr: "certificate is valid for localhost, not kafka.example"},
		{name: "server_name overrides the dialled host", tls: TLS{Enabled: true, CAFile: p.caFile, ServerName: "localhost"},
			server: serverTLS, serverName: "kafka.example"},
		{name: "insecure_skip_verify accepts an unknown CA", tls: TLS{Enabled: true, InsecureSkipVerify: true}, server: serverTLS, serverName: "x"},
		{name: "client certificate for mutual TLS", tls: TLS{Enabled: true, CAFile: p.caFile, CertFile: p.clientCert, KeyFile: p.clientKey},
			server: mutualTLS, serverName: "localhost"},
		{name: "mutual TLS without client certificate fails", tls: TLS{Enabled: true, CAFile: p.caFile},
			server: mutualTLS, serverName: "localhost", wantErr: "certificate"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := tt.tls.Build()
			if err != nil {
				t.Fatalf("Build: %v", err)
			}
			if cfg.MinVersion != tls.VersionTLS12 {
				t.Errorf("MinVersion %x, want TLS 1.2", cfg.MinVersion)
			}
			err = handshake(t, cfg, tt.server, tt.serverName)
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatalf("handshake: %v", err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Fatalf("handshake error %v, want one containing %q", err, tt.wantErr)
			}
		})
	}
}

func TestTLSBuildDisabled(t *testing.T) {
	cfg, err := TLS{CAFile: "/does/not/matter"}.Build()
	if cfg != nil || err != nil {
		t.Fatalf("disabled TLS: Build() = %v, %v; want nil, nil", cfg, err)
	}
}

func TestTLSBuildErrors(t *testing.T) {
	p := newTestPKI(t)
	notPEM := filepath.Join(t.TempDir(), "ca.txt")
	if err := os.WriteFile(notPEM, []byte("not a certificate"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		tls     TLS
		wantErr string
	}{
		{"missing CA file", TLS{Enabled: true, CAFile: "/nonexistent/ca.pem"}, "reading CA file"},
		{"CA file without PEM", TLS{Enabled: true, CAFile: notPEM}, "no PEM certificate found"},
		{"cert without key", TLS{Enabled: true, CertFile: p.clientCert}, "cert_file and key_file: a client certificate needs both"},
		{"key of another certificate", TLS{Enabled: true, CertFile: p.clientCert, KeyFile: p.serverKey}, "loading client certificate"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := tt.tls.Build()
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("Build() = %v, %v; want error containing %q", cfg, err, tt.wantErr)
			}
		})
	}
}

// TestValidateTLSFiles checks that Validate reports TLS problems under the
// key of the section they are in.
func TestValidateTLSFiles(t *testing.T) {
	p := newTestPKI(t)
	c := Default()
	c.Kafka.TLS = TLS{Enabled: true, CAFile: p.caFile, CertFile: p.clientCert, KeyFile: p.clientKey}
	c.Qdrant.TLS = TLS{Enabled: true, CAFile: p.caFile}
	c.Qdrant.REST = "https://localhost:6333"
	if err := c.Validate(); err != nil {
		t.Fatalf("valid TLS files: %v", err)
	}
	c.Qdrant.TLS.CAFile = filepath.Join(t.TempDir(), "missing.pem")
	c.Kafka.TLS.KeyFile = p.serverKey
	err := c.Validate()
	v, ok := err.(ValidationError)
	if !ok || len(v) != 2 || v[0].Key != "kafka.tls" || v[1].Key != "qdrant.tls.ca_file" {
		t.Fatalf("got %v, want errors for kafka.tls (key mismatch) and qdrant.tls.ca_file", err)
	}
}
