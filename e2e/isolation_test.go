package e2e

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/seed-a550a1ef/kafka-qdrant/e2e/internal/harness"
)

// TestStoppedPartitionDoesNotStopOthers: without a DLQ, a bad record stops
// its partition with a backlog of 1 MB behind it, twenty times
// batch.max_inflight_bytes. Records produced afterwards to the other
// partition are still applied and committed (before, the stopped
// partition's queue held the whole bound and polling stopped for every
// partition), the stopped one stays at the bad record, and its consumer
// lag follows its backlog.
func TestStoppedPartitionDoesNotStopOthers(t *testing.T) {
	s := scenario(t, harness.ScenarioOptions{Partitions: 2, Dim: 4})
	ctx := testContext(t, 3*time.Minute)

	pad := strings.Repeat("p", 1000)
	padded := func(from, to int) []harness.Record {
		var recs []harness.Record
		for i := from; i < to; i++ {
			recs = append(recs, harness.Record{Key: []byte(strconv.Itoa(i)),
				Value: fmt.Appendf(nil, `{"id": %d, "vector": [0.1, 0.2, 0.3, %d], "payload": {"pad": %q}}`, i, i+1, pad)})
		}
		return recs
	}
	// The bad record and a backlog of 1 MB per partition, read by the
	// replica before it stops the bad record's partition.
	produced := s.Produce(ctx, append([]harness.Record{{Key: []byte("bad"), Value: []byte(`not json`)}}, padded(0, 2000)...))
	stopped := produced[0].Partition
	healthy := 1 - stopped

	cfg := s.Config()
	cfg.Set("batch.max_records", 20)
	cfg.Set("batch.max_bytes", "16KiB")
	cfg.Set("record.max_bytes", "16KiB")
	cfg.Set("batch.max_inflight_bytes", "48KiB")
	a := s.Launch("a", cfg)
	waitUntil(ctx, t, 60*time.Second, "the bad record's partition to stop", func() error {
		text, err := a.Metrics(ctx)
		if err != nil {
			return err
		}
		if !strings.Contains(text, "\nkafka_qdrant_partitions_stopped 1\n") {
			return fmt.Errorf("kafka_qdrant_partitions_stopped is not 1")
		}
		return nil
	})

	// More records for both partitions, which the replica must fetch now.
	produced = append(produced, s.Produce(ctx, padded(2000, 4000))...)
	var healthyRecs, stoppedRecs int64
	var healthyIDs []harness.ID
	for i, p := range produced[1:] {
		if p.Partition == healthy {
			healthyRecs++
			healthyIDs = append(healthyIDs, harness.NumID(uint64(i)))
		} else {
			stoppedRecs++
		}
	}
	waitUntil(ctx, t, 90*time.Second, "the healthy partition applied while the other is stopped", func() error {
		c, err := harness.CommittedOffsets(ctx, s.Env.Admin, s.Group, s.Topic)
		if err != nil {
			return err
		}
		if c[healthy] != healthyRecs {
			return fmt.Errorf("committed %v, want partition %d at %d", c, healthy, healthyRecs)
		}
		return nil
	})
	got, err := harness.ReadPoints(ctx, s.Env.QdrantClient, s.Collection)
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range healthyIDs {
		if _, ok := got[id.PointKey()]; !ok {
			t.Fatalf("point %s of the healthy partition %d is missing", id, healthy)
		}
	}
	c, err := harness.CommittedOffsets(ctx, s.Env.Admin, s.Group, s.Topic)
	if err != nil {
		t.Fatal(err)
	}
	if at, ok := c[stopped]; ok && at != 0 {
		t.Errorf("stopped partition %d committed at %d, want nothing past its bad record at 0", stopped, at)
	}
	lag := regexp.MustCompile(`kafka_qdrant_consumer_lag\{partition="` + strconv.Itoa(int(stopped)) + `",topic="[^"]+"\} (\d+)`)
	want := strconv.FormatInt(stoppedRecs+1, 10)
	waitUntil(ctx, t, 30*time.Second, "the stopped partition's lag to show its backlog", func() error {
		text, err := a.Metrics(ctx)
		if err != nil {
			return err
		}
		if m := lag.FindStringSubmatch(text); m == nil || m[1] != want {
			return fmt.Errorf("consumer lag of the stopped partition: %v, want %s", m, want)
		}
		return nil
	})
}
