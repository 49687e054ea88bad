package kafkaclient

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
)

// ErrAuth marks a Ping error that is not about the network: the broker
// rejected the client's SASL credentials (answered
// SASL_AUTHENTICATION_FAILED or closed the connection during the SASL
// exchange), or the TLS handshake failed: the broker's certificate is not
// trusted, or the broker refused ours (any TLS alert it sends, in practice a
// missing or unknown client certificate). Retrying does not help; the configuration
// (kafka.sasl, kafka.tls) or the broker's user database must change. Test
// with errors.Is.
var ErrAuth = errors.New("kafka authentication failed")

// Ping checks that the cluster answers cl: it sends one metadata request
// (for no topics, so it is cheap on any cluster) to each known broker, then
// each seed broker, until one answers, without retries. The request needs a
// completed connection, TLS handshake and SASL authentication, so a wrong
// CA, certificate or password fails here with the broker's reason. The
// error names the seed brokers; ctx bounds the whole check.
//
// When the broker closes the connection during SASL authentication (as
// brokers may do for bad credentials), the error says so and names the
// mechanism and user, never the password. Authentication and certificate
// failures wrap ErrAuth.
func Ping(ctx context.Context, cl *kgo.Client) error {
	w := findAuthWatch(cl)
	if w != nil {
		w.reset()
	}
	err := cl.Ping(ctx)
	switch {
	case err == nil:
		return nil
	case w != nil && w.failed():
		return fmt.Errorf("reaching kafka brokers %v: SASL %s authentication as %q failed, the broker closed the connection (check kafka.sasl.mechanism, username and password): %w: %w",
			cl.OptValue(kgo.SeedBrokers), w.mechanism, w.user, ErrAuth, err)
	case isAuthFailure(err):
		return fmt.Errorf("reaching kafka brokers %v: %w: %w", cl.OptValue(kgo.SeedBrokers), ErrAuth, err)
	}
	return fmt.Errorf("reaching kafka brokers %v: %w", cl.OptValue(kgo.SeedBrokers), err)
}

// isAuthFailure reports whether err is a broker's SASL answer or a TLS
// certificate failure on either side of the handshake: ours
// (CertificateVerificationError) or the broker's, which arrives as a TLS
// alert; crypto/tls reports a received alert as a *net.OpError with Op
// "remote error" (crypto/tls/conn.go, readRecordOrCCS), its alert type
// being unexported.
func isAuthFailure(err error) bool {
	var verify *tls.CertificateVerificationError
	var op *net.OpError
	return errors.Is(err, kerr.SaslAuthenticationFailed) ||
		errors.Is(err, kerr.UnsupportedSaslMechanism) ||
		errors.Is(err, kerr.IllegalSaslState) ||
		errors.As(err, &verify) ||
		(errors.As(err, &op) && op.Op == "remote error")
}
