package connector

import (
	"strconv"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/seed-a550a1ef/kafka-qdrant/internal/promreg"
)

type metrics struct {
	consumed      prometheus.Counter
	deadLettered  *prometheus.CounterVec
	dlqTruncated  prometheus.Counter
	retries       *prometheus.CounterVec
	paused        prometheus.Gauge
	stopped       prometheus.Gauge
	inflightBytes prometheus.Gauge
	fetchBlocked  prometheus.Gauge
	lag           *prometheus.GaugeVec
}

func newMetrics(reg prometheus.Registerer, decoded func() int64) (*metrics, error) {
	m := &metrics{
		consumed: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "kafka_qdrant_records_consumed_total",
			Help: "Records fetched from the data topics and handed to partition pipelines.",
		}),
		deadLettered: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "kafka_qdrant_records_dead_lettered_total",
			Help: "Records written to the DLQ topic, by error class.",
		}, []string{"class"}),
		dlqTruncated: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "kafka_qdrant_dlq_truncated_total",
			Help: "Records dead-lettered cut to fit the DLQ topic's max.message.bytes (header kq.errors.truncated).",
		}),
		retries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "kafka_qdrant_retries_total",
			Help: "Retries of retryable failures, by class (the gRPC code name in snake case, or kafka_produce).",
		}, []string{"class"}),
		paused: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "kafka_qdrant_paused_partitions",
			Help: "Partitions whose fetching is paused (a batch retrying for 5s or more, a stop, or a restore's data pause).",
		}),
		stopped: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "kafka_qdrant_partitions_stopped",
			Help: "Partitions stopped on a bad record because no DLQ topic is configured.",
		}),
		inflightBytes: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "kafka_qdrant_inflight_bytes",
			Help: "Bytes of records fetched and not yet applied, dead-lettered or dropped.",
		}),
		fetchBlocked: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "kafka_qdrant_fetch_blocked",
			Help: "1 while polling waits because batch.max_inflight_bytes is reached.",
		}),
		lag: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "kafka_qdrant_consumer_lag",
			Help: "Records between the partition's high watermark and the last finished batch (kept current while the partition is paused or stopped).",
		}, []string{"topic", "partition"}),
	}
	var err error
	m.retries, err = promreg.RegisterOrExisting(reg, m.retries) // shared with the sink
	if err != nil {
		return nil, err
	}
	decodedBytes := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "kafka_qdrant_decoded_bytes",
		Help: "Estimated heap bytes of decoded records held by partition pipelines (bounded by batch.max_decoded_bytes).",
	}, func() float64 { return float64(decoded()) })
	for _, c := range []prometheus.Collector{decodedBytes, m.consumed, m.deadLettered, m.dlqTruncated, m.paused, m.stopped, m.inflightBytes, m.fetchBlocked, m.lag} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return m, nil
}

// lagGauge is the consumer-lag gauge of one partition.
func (m *metrics) lagGauge(key tp) prometheus.Gauge {
	return m.lag.WithLabelValues(key.topic, strconv.Itoa(int(key.partition)))
}

func (m *metrics) forgetPartition(key tp) {
	m.lag.DeleteLabelValues(key.topic, strconv.Itoa(int(key.partition)))
}
