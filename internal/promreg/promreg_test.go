package promreg

import (
	"testing"

	"github.com/prometheus/client_golang/prometheus"
)

func TestRegisterOrExisting(t *testing.T) {
	reg := prometheus.NewRegistry()
	opts := prometheus.CounterOpts{Name: "kafka_qdrant_test_total", Help: "A test counter."}
	first, err := RegisterOrExisting(reg, prometheus.NewCounter(opts))
	if err != nil {
		t.Fatal(err)
	}
	second, err := RegisterOrExisting(reg, prometheus.NewCounter(opts))
	if err != nil || second != first {
		t.Fatalf("second registration: %v, same collector %v; want the first one back", err, second == first)
	}
	second.Inc()
	mfs, err := reg.Gather()
	if err != nil || len(mfs) != 1 || mfs[0].GetMetric()[0].GetCounter().GetValue() != 1 {
		t.Fatalf("gathered %v, %v", mfs, err)
	}

	// Same name, another help: an error, not the existing collector.
	other := prometheus.NewCounter(prometheus.CounterOpts{Name: "kafka_qdrant_test_total", Help: "Another help."})
	if got, err := RegisterOrExisting(reg, other); err == nil || got != other {
		t.Fatalf("conflicting registration: %v", err)
	}
	defer func() {
		if r := recover(); r == nil {
			t.Fatal("MustRegisterOrExisting did not panic on a conflict")
		}
	}()
	MustRegisterOrExisting("test", reg, other)
}
