package backup

import (
	"errors"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/seed-a550a1ef/kafka-qdrant/control/job"
	"github.com/seed-a550a1ef/kafka-qdrant/internal/promreg"
)

// metrics are the kafka_qdrant_backup_* and kafka_qdrant_restore_*
// collectors. Labels: op (backup, backup_storage, restore), result
// (succeeded, failed, cancelled, handed_over) and collection (for the last
// success only): no per-record or per-command labels.
type metrics struct {
	ops         *prometheus.CounterVec
	duration    *prometheus.HistogramVec
	bytes       *prometheus.CounterVec
	lastSuccess *prometheus.GaugeVec
	schedule    prometheus.Gauge
	replayed    prometheus.Counter
	pause       prometheus.Histogram
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		ops: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "kafka_qdrant_backup_operations_total",
			Help: "Backup, storage backup and restore commands run by this replica, by outcome.",
		}, []string{"op", "result"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "kafka_qdrant_backup_duration_seconds",
			Help:    "Duration of backup, storage backup and restore commands run by this replica (attempts on this replica).",
			Buckets: []float64{1, 5, 15, 60, 300, 900, 1800, 3600, 3 * 3600, 6 * 3600, 12 * 3600},
		}, []string{"op"}),
		bytes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "kafka_qdrant_backup_bytes_total",
			Help: "Snapshot bytes moved: into the store (backup, backup_storage) or out of it (restore).",
		}, []string{"op"}),
		lastSuccess: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "kafka_qdrant_backup_last_success_timestamp_seconds",
			Help: "Completion time of the newest complete backup of each collection (from the store's manifests and this replica's backups).",
		}, []string{"collection"}),
		schedule: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "kafka_qdrant_backup_schedule_seconds",
			Help: "backup.schedule in seconds (0: no schedule); the alert on missing backups compares against twice this.",
		}),
		replayed: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "kafka_qdrant_restore_replayed_records_total",
			Help: "Records a restore replayed from Kafka into the restored collection.",
		}),
		pause: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "kafka_qdrant_restore_pause_seconds",
			Help:    "How long the data path was paused for an alias switch after a replay.",
			Buckets: []float64{0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120},
		}),
	}
	m.ops = register(reg, m.ops)
	m.duration = register(reg, m.duration)
	m.bytes = register(reg, m.bytes)
	m.lastSuccess = register(reg, m.lastSuccess)
	m.schedule = register(reg, m.schedule)
	m.replayed = register(reg, m.replayed)
	m.pause = register(reg, m.pause)
	return m
}

// register registers c, or returns the collector already registered under
// its name (handlers built twice on one registry share their metrics).
func register[C prometheus.Collector](reg prometheus.Registerer, c C) C {
	return promreg.MustRegisterOrExisting("backup handlers", reg, c)
}

// observe records the end of one attempt of op that started at start.
func (m *metrics) observe(op string, start, end time.Time, err error) {
	result := "succeeded"
	switch {
	case errors.Is(err, job.ErrCancelled):
		result = "cancelled"
	case errors.Is(err, job.ErrHandover):
		result = "handed_over"
	case err != nil:
		result = "failed"
	}
	m.ops.WithLabelValues(op, result).Inc()
	m.duration.WithLabelValues(op).Observe(end.Sub(start).Seconds())
}
