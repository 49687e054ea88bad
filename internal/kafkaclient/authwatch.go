package kafkaclient

import (
	"reflect"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// authWatch is a kgo.HookBrokerRead that remembers whether the last SASL
// read failed. Some brokers (and kfake) close the connection on a failed
// authentication instead of answering SASL_AUTHENTICATION_FAILED; the
// client then only sees EOF. Ping uses the watch to say that the
// credentials, not the network, are the likely cause.
type authWatch struct {
	mechanism, user string

	mu      sync.Mutex
	lastErr error // error of the last SASLHandshake/SASLAuthenticate read
}

var _ kgo.HookBrokerRead = (*authWatch)(nil)

// OnBrokerRead implements kgo.HookBrokerRead.
func (w *authWatch) OnBrokerRead(_ kgo.BrokerMetadata, key int16, _ int, _, _ time.Duration, err error) {
	if key != int16(kmsg.SASLAuthenticate) && key != int16(kmsg.SASLHandshake) {
		return
	}
	w.mu.Lock()
	w.lastErr = err
	w.mu.Unlock()
}

func (w *authWatch) reset() {
	w.mu.Lock()
	w.lastErr = nil
	w.mu.Unlock()
}

func (w *authWatch) failed() bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.lastErr != nil
}

// findAuthWatch returns the authWatch that Options installed in cl, or nil.
// kgo returns the hooks as its own unexported slice type, so they are
// walked by reflection.
func findAuthWatch(cl *kgo.Client) *authWatch {
	v := reflect.ValueOf(cl.OptValue(kgo.WithHooks))
	if v.Kind() != reflect.Slice {
		return nil
	}
	for i := range v.Len() {
		if w, ok := v.Index(i).Interface().(*authWatch); ok {
			return w
		}
	}
	return nil
}
