package sink

import (
	"context"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
)

// Two writers on one registry share their collectors instead of failing.
func TestMetricsSharedRegistry(t *testing.T) {
	reg := prometheus.NewRegistry()
	st := newStore()
	for range 2 {
		tw, _ := storeWriter(t, st)
		w := NewWriter(tw.points, newFakeCollections(), WriterConfig{Registerer: reg})
		if _, err := w.Write(context.Background(), "c", upserts(3)); err != nil {
			t.Fatal(err)
		}
	}
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]float64{}
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			if c := m.GetCounter(); c != nil {
				names[mf.GetName()] += c.GetValue()
			}
			if h := m.GetHistogram(); h != nil {
				names[mf.GetName()] += float64(h.GetSampleCount())
			}
		}
	}
	want := map[string]float64{
		"kafka_qdrant_records_upserted_total":  6,
		"kafka_qdrant_batch_records":           2,
		"kafka_qdrant_upsert_duration_seconds": 2,
	}
	for name, v := range want {
		if names[name] != v {
			t.Errorf("%s = %v, want %v", name, names[name], v)
		}
	}
}

// Without a registerer the writer still works (metrics go nowhere).
func TestMetricsNilRegisterer(t *testing.T) {
	tw, _ := storeWriter(t, newStore())
	w := NewWriter(tw.points, newFakeCollections(), WriterConfig{})
	if _, err := w.Write(context.Background(), "c", upserts(1)); err != nil {
		t.Fatal(err)
	}
}
