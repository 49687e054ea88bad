package sink

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/seed-a550a1ef/kafka-qdrant/internal/promreg"
)

// metrics are the writer's Prometheus collectors. No label carries a
// record, point id or collection: the only label is the retry class, a
// fixed set (the gRPC code names and strict_mode, from codeRules and
// messageRules). kafka_qdrant_retries_total is shared with the connector
// (class kafka_produce): its Help must stay identical to
// connector/metrics.go's, or registering the second fails.
type metrics struct {
	upserted prometheus.Counter
	deleted  prometheus.Counter
	rejected prometheus.Counter
	fenced   prometheus.Counter
	splits   prometheus.Counter
	batch    prometheus.Histogram
	duration prometheus.Histogram
	retries  *prometheus.CounterVec
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		upserted: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "kafka_qdrant_records_upserted_total",
			Help: "Points upserted into Qdrant and confirmed applied (wait=true).",
		}),
		deleted: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "kafka_qdrant_records_deleted_total",
			Help: "Points deleted from Qdrant and confirmed applied (wait=true).",
		}),
		rejected: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "kafka_qdrant_records_rejected_total",
			Help: "Records the writer handed back as rejected (isolated by bisection, unknown collection, unsendable).",
		}),
		fenced: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "kafka_qdrant_fenced_writes_total",
			Help: "Fenced upserts and deletes Qdrant confirmed that did not take because the point holds a newer offset or epoch (read back after the call). Not counted as upserted or deleted.",
		}),
		splits: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "kafka_qdrant_request_splits_total",
			Help: "UpdateBatch requests halved because a gRPC or proxy limit refused them as too large (lower qdrant.max_request_bytes below that limit).",
		}),
		batch: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "kafka_qdrant_batch_records",
			Help:    "Operations per UpdateBatch call, bisection halves and retries included.",
			Buckets: prometheus.ExponentialBuckets(1, 2, 13), // 1 .. 4096
		}),
		duration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "kafka_qdrant_upsert_duration_seconds",
			Help:    "Latency of UpdateBatch calls (wait=true), failed ones included.",
			Buckets: prometheus.ExponentialBuckets(0.001, 2, 16), // 1ms .. 33s
		}),
		retries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "kafka_qdrant_retries_total",
			Help: "Retries of retryable failures, by class (the gRPC code name in snake case, or kafka_produce).",
		}, []string{"class"}),
	}
	if reg != nil {
		m.upserted = register(reg, m.upserted)
		m.deleted = register(reg, m.deleted)
		m.rejected = register(reg, m.rejected)
		m.fenced = register(reg, m.fenced)
		m.splits = register(reg, m.splits)
		m.batch = register(reg, m.batch)
		m.duration = register(reg, m.duration)
		m.retries = register(reg, m.retries)
	}
	return m
}

// retry counts one retry of the given class.
func (m *metrics) retry(class string) { m.retries.WithLabelValues(class).Inc() }

// register registers c on reg, or returns the collector already registered
// under the same description (several writers on one registry share their
// metrics). Any other registration error is a programming error.
func register[C prometheus.Collector](reg prometheus.Registerer, c C) C {
	return promreg.MustRegisterOrExisting("sink", reg, c)
}
