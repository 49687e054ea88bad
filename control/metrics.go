package control

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/seed-a550a1ef/kafka-qdrant/control/auth"
	"github.com/seed-a550a1ef/kafka-qdrant/schemas"
)

// metrics are the control plane's Prometheus metrics. The type label is a
// known command type or "unknown" (never a user-chosen string), the state
// label a final state: no per-id labels.
type metrics struct {
	total    *prometheus.CounterVec
	duration *prometheus.HistogramVec
	running  prometheus.Gauge
	owner    prometheus.Gauge
	// tombstones counts finished commands removed by retention.
	tombstones prometheus.Counter
	// unauthorized counts commands refused by control.auth, by reason.
	unauthorized *prometheus.CounterVec
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		total: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "kafka_qdrant_commands_total",
			Help: "Control commands that reached a final state on this replica, by type and final state.",
		}, []string{"type", "state"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "kafka_qdrant_command_duration_seconds",
			Help:    "Time from a command starting to run on this replica to its final state, by type.",
			Buckets: prometheus.ExponentialBucketsRange(0.05, 6*3600, 14),
		}, []string{"type"}),
		running: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "kafka_qdrant_commands_running",
			Help: "Control commands running on this replica.",
		}),
		owner: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "kafka_qdrant_control_owner",
			Help: "1 while this replica owns the control partition (former owners fenced, status view caught up), else 0.",
		}),
		tombstones: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "kafka_qdrant_status_tombstones_total",
			Help: "Finished commands tombstoned on the status topic by control.status_retention.",
		}),
		unauthorized: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "kafka_qdrant_commands_unauthorized_total",
			Help: "Control commands refused by control.auth (failed, code unauthorized) on this replica, by reason: unsigned, unknown_key, bad_signature, incomplete, expired, not_permitted.",
		}, []string{"reason"}),
	}
	for _, c := range []prometheus.Collector{m.total, m.duration, m.running, m.owner, m.tombstones, m.unauthorized} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("registering control metrics: %w", err)
		}
	}
	for _, t := range schemas.CommandTypes() {
		for _, s := range []schemas.State{schemas.StateSucceeded, schemas.StateFailed, schemas.StateCancelled} {
			m.total.WithLabelValues(string(t), string(s))
		}
	}
	for _, r := range auth.Reasons() {
		m.unauthorized.WithLabelValues(string(r))
	}
	return m, nil
}

// typeLabel bounds the type label to the known types.
func typeLabel(t schemas.CommandType) string {
	if t.Known() {
		return string(t)
	}
	return "unknown"
}
