package kafkaclient

import (
	"context"
	"fmt"

	"github.com/twmb/franz-go/pkg/kgo"
)

// Ping checks that the cluster answers cl: it sends one metadata request
// (for no topics, so it is cheap on any cluster) to each known broker, then
// each seed broker, until one answers, without retries. The request needs a
// completed connection, TLS handshake and SASL authentication, so a wrong
// CA, certificate or password fails here with the broker's reason. The
// error names the seed brokers; ctx bounds the whole check.
//
// When the broker closes the connection during SASL authentication (as
// brokers may do for bad credentials), the error says so and names the
// mechanism and user, never the password.
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
		return fmt.Errorf("reaching kafka brokers %v: SASL %s authentication as %q failed, the broker closed the connection (check kafka.sasl.mechanism, username and password): %w",
			cl.OptValue(kgo.SeedBrokers), w.mechanism, w.user, err)
	}
	return fmt.Errorf("reaching kafka brokers %v: %w", cl.OptValue(kgo.SeedBrokers), err)
}
