package connector

import (
	"os"
	"strconv"
)

// benchKnobs applies the benchmarks' environment overrides:
// KQ_BENCH_INFLIGHT sets batch.max_inflight_per_partition (a sweep).
func benchKnobs(c *Config) {
	if v, err := strconv.Atoi(os.Getenv("KQ_BENCH_INFLIGHT")); err == nil && v > 0 {
		c.Batch.MaxInflightPerPartition = v
	}
}
