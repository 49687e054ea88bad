package kafkaclient

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sasl"

	"github.com/seed-a550a1ef/kafka-qdrant/config"
)

// newClient builds a client from Options(k); it does not connect yet.
func newClient(t *testing.T, k config.Kafka) *kgo.Client {
	t.Helper()
	opts, err := Options(k)
	if err != nil {
		t.Fatalf("Options: %v", err)
	}
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		t.Fatalf("NewClient: %v", err)
	}
	t.Cleanup(cl.Close)
	return cl
}

func kafkaConfig(brokers ...string) config.Kafka {
	k := config.Default().Kafka
	k.Brokers = brokers
	return k
}

func TestOptionsValues(t *testing.T) {
	k := kafkaConfig("b1:9092", "b2:9093")
	k.ClientID = "kq-test"
	k.DialTimeout = 3 * time.Second
	cl := newClient(t, k)
	if got := cl.OptValue(kgo.SeedBrokers); !reflect.DeepEqual(got, []string{"b1:9092", "b2:9093"}) {
		t.Errorf("SeedBrokers %v", got)
	}
	if got := cl.OptValue(kgo.ClientID); got != "kq-test" {
		t.Errorf("ClientID %v", got)
	}
	if got := cl.OptValue(kgo.DialTimeout); got != 3*time.Second {
		t.Errorf("DialTimeout %v", got)
	}
	if got := cl.OptValue(kgo.DialTLSConfig); got != (*tls.Config)(nil) {
		t.Errorf("DialTLSConfig %v, want none with TLS disabled", got)
	}
	if got := cl.OptValue(kgo.SASL); len(got.([]sasl.Mechanism)) != 0 {
		t.Errorf("SASL %v, want none", got)
	}
	// No consumer or group option: the client consumes nothing.
	if got := cl.OptValue(kgo.ConsumerGroup); got != "" {
		t.Errorf("ConsumerGroup %q, want none", got)
	}
	if got := cl.OptValue(kgo.ConsumeTopics); got != nil && reflect.ValueOf(got).Len() != 0 {
		t.Errorf("ConsumeTopics %v, want none", got)
	}
}

func TestOptionsSASLMechanism(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"PLAIN", "PLAIN"}, {"SCRAM-SHA-256", "SCRAM-SHA-256"}, {"scram-sha-512", "SCRAM-SHA-512"},
	} {
		t.Run(tt.in, func(t *testing.T) {
			k := kafkaConfig("b:9092")
			k.SASL = config.SASL{Mechanism: tt.in, Username: "u", Password: "p"}
			mechs := newClient(t, k).OptValue(kgo.SASL).([]sasl.Mechanism)
			if len(mechs) != 1 || mechs[0].Name() != tt.want {
				t.Fatalf("mechanisms %v, want one %s", mechs, tt.want)
			}
		})
	}
}

func TestOptionsErrors(t *testing.T) {
	tests := []struct {
		name    string
		mutate  func(k *config.Kafka)
		wantErr string
	}{
		{"no brokers", func(k *config.Kafka) { k.Brokers = nil }, "kafka.brokers: must not be empty"},
		{"unknown mechanism", func(k *config.Kafka) { k.SASL = config.SASL{Mechanism: "GSSAPI", Username: "u", Password: "p"} },
			`kafka.sasl.mechanism: must be one of PLAIN, SCRAM-SHA-256, SCRAM-SHA-512, got "GSSAPI"`},
		{"missing CA file", func(k *config.Kafka) { k.TLS = config.TLS{Enabled: true, CAFile: "/nonexistent/ca.pem"} },
			"kafka.tls: ca_file: reading CA file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			k := kafkaConfig("b:9092")
			tt.mutate(&k)
			opts, err := Options(k)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) || opts != nil {
				t.Fatalf("Options = %d opts, %v; want nil and error containing %q", len(opts), err, tt.wantErr)
			}
		})
	}
}

// newCluster starts a one-broker kfake cluster.
func newCluster(t *testing.T, opts ...kfake.Opt) []string {
	t.Helper()
	c, err := kfake.NewCluster(append([]kfake.Opt{kfake.NumBrokers(1)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c.ListenAddrs()
}

func ping(t *testing.T, k config.Kafka) error {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return Ping(ctx, newClient(t, k))
}

func TestPingPlaintext(t *testing.T) {
	if err := ping(t, kafkaConfig(newCluster(t)...)); err != nil {
		t.Fatalf("Ping: %v", err)
	}
}

// wantAuthFailed is what Ping says when authentication fails; kfake, like
// some brokers, closes the connection instead of answering with
// SASL_AUTHENTICATION_FAILED.
const wantAuthFailed = "authentication as"

func TestPingSASL(t *testing.T) {
	brokers := newCluster(t,
		kfake.EnableSASL(),
		kfake.Superuser("PLAIN", "plain-user", "plain-pass"),
		kfake.Superuser("SCRAM-SHA-256", "scram256-user", "scram256-pass"),
		kfake.Superuser("SCRAM-SHA-512", "scram512-user", "scram512-pass"),
	)
	tests := []struct {
		name    string
		sasl    config.SASL
		wantErr string // "" means Ping succeeds
	}{
		{"PLAIN", config.SASL{Mechanism: "PLAIN", Username: "plain-user", Password: "plain-pass"}, ""},
		{"SCRAM-SHA-256", config.SASL{Mechanism: "SCRAM-SHA-256", Username: "scram256-user", Password: "scram256-pass"}, ""},
		{"SCRAM-SHA-512", config.SASL{Mechanism: "SCRAM-SHA-512", Username: "scram512-user", Password: "scram512-pass"}, ""},
		{"PLAIN wrong password", config.SASL{Mechanism: "PLAIN", Username: "plain-user", Password: "nope"}, wantAuthFailed},
		{"SCRAM-SHA-256 wrong password", config.SASL{Mechanism: "SCRAM-SHA-256", Username: "scram256-user", Password: "nope"}, wantAuthFailed},
		{"SCRAM-SHA-512 wrong password", config.SASL{Mechanism: "SCRAM-SHA-512", Username: "scram512-user", Password: "nope"}, wantAuthFailed},
		{"SCRAM-SHA-512 unknown user", config.SASL{Mechanism: "SCRAM-SHA-512", Username: "nobody", Password: "scram512-pass"}, wantAuthFailed},
		{"no SASL against a SASL cluster", config.SASL{}, "reaching kafka brokers"},
		{"wrong mechanism for the user", config.SASL{Mechanism: "SCRAM-SHA-256", Username: "plain-user", Password: "plain-pass"}, wantAuthFailed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			k := kafkaConfig(brokers...)
			k.SASL = tt.sasl
			err := ping(t, k)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("Ping: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("Ping error %v, want one containing %q", err, tt.wantErr)
			}
			if got, want := errors.Is(err, ErrAuth), tt.wantErr == wantAuthFailed; got != want {
				t.Errorf("errors.Is(%v, ErrAuth) = %v, want %v", err, got, want)
			}
			if tt.sasl.Password != "" && strings.Contains(err.Error(), tt.sasl.Password.Reveal()) {
				t.Errorf("error shows the password: %v", err)
			}
			if !strings.Contains(err.Error(), brokers[0]) {
				t.Errorf("error %v does not name the broker %s", err, brokers[0])
			}
		})
	}
}

func TestPingTLS(t *testing.T) {
	ca := newTestCA(t)
	serverCert, _, _ := ca.issue(t, x509.ExtKeyUsageServerAuth)
	_, clientCert, clientKey := ca.issue(t, x509.ExtKeyUsageClientAuth)
	other := newTestCA(t)

	plainTLS := newCluster(t, kfake.TLS(&tls.Config{Certificates: []tls.Certificate{serverCert}}))
	mutualTLS := newCluster(t, kfake.TLS(&tls.Config{
		Certificates: []tls.Certificate{serverCert}, ClientAuth: tls.RequireAndVerifyClientCert, ClientCAs: ca.pool,
	}))
	saslSSL := newCluster(t, kfake.TLS(&tls.Config{Certificates: []tls.Certificate{serverCert}}),
		kfake.EnableSASL(), kfake.Superuser("SCRAM-SHA-512", "u", "p"))

	tests := []struct {
		name    string
		brokers []string
		tls     config.TLS
		sasl    config.SASL
		wantErr string
		// wantAuth: the error wraps ErrAuth (a certificate or SASL
		// failure, not the network).
		wantAuth bool
	}{
		{name: "CA verifies broker", brokers: plainTLS, tls: config.TLS{Enabled: true, CAFile: ca.file}},
		{name: "wrong CA", brokers: plainTLS, tls: config.TLS{Enabled: true, CAFile: other.file},
			wantErr: "certificate signed by unknown authority", wantAuth: true},
		{name: "plaintext client against TLS broker", brokers: plainTLS, wantErr: "reaching kafka brokers"},
		{name: "mutual TLS without client certificate", brokers: mutualTLS, tls: config.TLS{Enabled: true, CAFile: ca.file},
			wantErr: "reaching kafka brokers", wantAuth: true},
		{name: "mutual TLS", brokers: mutualTLS,
			tls: config.TLS{Enabled: true, CAFile: ca.file, CertFile: clientCert, KeyFile: clientKey}},
		{name: "SASL over TLS", brokers: saslSSL, tls: config.TLS{Enabled: true, CAFile: ca.file},
			sasl: config.SASL{Mechanism: "SCRAM-SHA-512", Username: "u", Password: "p"}},
		{name: "SASL over TLS wrong password", brokers: saslSSL, tls: config.TLS{Enabled: true, CAFile: ca.file},
			sasl: config.SASL{Mechanism: "SCRAM-SHA-512", Username: "u", Password: "x"}, wantErr: wantAuthFailed, wantAuth: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			k := kafkaConfig(tt.brokers...)
			k.TLS, k.SASL = tt.tls, tt.sasl
			err := ping(t, k)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("Ping: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("Ping error %v, want one containing %q", err, tt.wantErr)
			}
			if errors.Is(err, ErrAuth) != tt.wantAuth {
				t.Errorf("errors.Is(%v, ErrAuth) = %v, want %v", err, !tt.wantAuth, tt.wantAuth)
			}
		})
	}
}

func TestPingUnreachable(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens there now: connection refused
	err = ping(t, kafkaConfig(addr))
	if err == nil || !strings.Contains(err.Error(), addr) || !strings.Contains(err.Error(), "connection refused") {
		t.Fatalf("Ping error %v, want connection refused naming %s", err, addr)
	}
	if errors.Is(err, ErrAuth) {
		t.Errorf("an unreachable broker is reported as an authentication failure: %v", err)
	}
}
