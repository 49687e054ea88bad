package e2e

import (
	"fmt"

	"github.com/seed-a550a1ef/kafka-qdrant/e2e/internal/harness"
)

// vec is the vector of point i at version ver: every (i, ver) has its own
// direction, so an old version left in place shows up as a mismatch even
// under cosine normalization.
func vec(i, ver int) []float32 {
	return []float32{float32(i%97 + 1), float32(ver%89 + 1), float32((i*7)%13 + 1), float32((i+ver)%5) + 0.5}
}

// payload of point i at version ver: an integer, a fraction, a string, a
// bool, a nested object and a list, so every JSON type goes through.
func payload(i, ver int) map[string]any {
	return map[string]any{
		"i":      i,
		"ver":    ver,
		"score":  float64(i%100) + 0.25,
		"title":  fmt.Sprintf("point %d v%d", i, ver),
		"even":   i%2 == 0,
		"nested": map[string]any{"bucket": i % 10, "tags": []any{"a", fmt.Sprint(ver)}},
	}
}

// upserts returns records upserting ids lo..hi-1 (numeric) at version ver.
func upserts(m *harness.Model, lo, hi, ver int) []harness.Record {
	recs := make([]harness.Record, 0, hi-lo)
	for i := lo; i < hi; i++ {
		recs = append(recs, m.Upsert(harness.NumID(uint64(i)), vec(i, ver), payload(i, ver)))
	}
	return recs
}
