package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/qdrant/go-client/qdrant"
	"github.com/twmb/franz-go/pkg/kgo"
	"google.golang.org/protobuf/proto"

	"github.com/seed-a550a1ef/kafka-qdrant/control"
	"github.com/seed-a550a1ef/kafka-qdrant/e2e/internal/harness"
	"github.com/seed-a550a1ef/kafka-qdrant/schemas/recordpb"
)

// BenchmarkReplicaThroughput measures one replica process end to end on the
// environment's servers: N records (dimension 128, a 3-field payload) are
// already in a 4-partition topic, as JSON envelopes (json) or record.v1
// Protobuf messages (protobuf); the clock runs from the process start
// until every offset is committed (so it includes start-up and the group
// join; steady-records/s counts from the first commit, startup-s is the
// time to it). The control topics and the group coordinator exist
// already (as on every start but a cluster's first). The replica runs at the default batch and fetch
// settings.
// Besides the rates it reports, for the replica process alone, its CPU
// time per 100k records (user and system, start-up included) and its peak
// RSS (VmHWM), both read from /proc before it is stopped.
//
// KQ_E2E_BENCH_RECORDS sets N (default 200k); KQ_E2E_BENCH_SET sets
// replica config keys for a sweep ("batch.max_inflight_per_partition=2;
// kafka.fetch_max_bytes=16MiB", values parsed as JSON when they are). Run
// with
//
//	KAFKA=real E2E_BENCH=ReplicaThroughput ./scripts/e2e.sh
func BenchmarkReplicaThroughput(b *testing.B) {
	n := benchSize(b, "KQ_E2E_BENCH_RECORDS", 200_000)
	for _, format := range []string{"json", "protobuf"} {
		b.Run(format, func(b *testing.B) { replicaThroughput(b, format, n) })
	}
}

func replicaThroughput(b *testing.B, format string, n int) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
	defer cancel()
	for range b.N {
		b.StopTimer()
		s := env.NewScenario(b, harness.ScenarioOptions{Partitions: 4, Dim: 128})
		m := harness.NewModel()
		v := make([]float32, 128)
		for lo := 0; lo < n; lo += 10_000 {
			recs := make([]harness.Record, 0, 10_000)
			for i := lo; i < min(lo+10_000, n); i++ {
				for j := range v {
					v[j] = float32((i*31+j*7)%1000)/997 + 0.001
				}
				title, year := "doc "+strconv.Itoa(i), 1970+i%50
				r := m.Upsert(harness.NumID(uint64(i)), v, map[string]any{"title": title, "year": year, "tags": []string{"a", "b"}})
				if format == "protobuf" {
					r.Value = benchProtobuf(b, uint64(i), v, title, int64(year))
				}
				recs = append(recs, r)
			}
			s.Produce(ctx, recs)
		}
		// The control topics exist, as on every start after a replica's
		// first: on a cluster without them the first start waits about
		// 5 s more (the client's metadata age) before the data path
		// reads its first batch.
		if err := control.EnsureTopics(ctx, []kgo.Opt{kgo.SeedBrokers(s.Env.Kafka.Brokers...)}, s.ControlTopic, s.StatusTopic, slog.New(slog.DiscardHandler)); err != nil {
			b.Fatal(err)
		}
		// The group coordinator is up, as on every start but a cluster's
		// first: a fresh broker creates __consumer_offsets on the first
		// group lookup, which cost the first benchmark ~0.4 s of start-up.
		for {
			_, err := harness.CommittedOffsets(ctx, s.Env.Admin, s.Group, s.Topic)
			if err == nil {
				break
			}
			if ctx.Err() != nil {
				b.Fatal(err)
			}
			time.Sleep(50 * time.Millisecond)
		}
		cfg := s.Config()
		cfg.Set("record.format", format)
		benchSettings(b, cfg)
		b.StartTimer()
		start := time.Now()
		r := s.Launch("bench", cfg)
		// Poll the commits: the first one marks the end of start-up and
		// the group join, so the steady rate is measured from there.
		var firstAt time.Time
		var firstCount int64
		for {
			c, err := harness.CommittedOffsets(ctx, s.Env.Admin, s.Group, s.Topic)
			if total := c.Total(); err == nil && total > 0 {
				if firstAt.IsZero() {
					firstAt, firstCount = time.Now(), total
				}
				if total == int64(n) {
					break
				}
			}
			if ctx.Err() != nil {
				b.Fatal("the replica did not commit every record in time")
			}
			time.Sleep(20 * time.Millisecond)
		}
		took := time.Since(start)
		b.StopTimer()
		cpu, rss, err := processUsage(r.Pid())
		if err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(float64(n)/took.Seconds(), "records/s")
		if steady := time.Since(firstAt); steady > 0 && int64(n) > firstCount {
			b.ReportMetric(float64(int64(n)-firstCount)/steady.Seconds(), "steady-records/s")
		}
		b.ReportMetric(firstAt.Sub(start).Seconds(), "startup-s")
		b.ReportMetric(cpu.Seconds()*100_000/float64(n), "cpu-s/100k")
		b.ReportMetric(float64(rss)/(1<<20), "peak-rss-MiB")
		count, err := s.Env.QdrantClient.Count(ctx, &qdrant.CountPoints{CollectionName: s.Collection, Exact: qdrant.PtrOf(true)})
		if err != nil || count != uint64(n) {
			b.Fatalf("collection holds %d points (err %v), want %d", count, err, n)
		}
		if code := r.Stop(30 * time.Second); code != 0 {
			b.Fatalf("replica exited with %d after SIGTERM", code)
		}
		b.StartTimer()
	}
}

// benchProtobuf is the benchmark's record as a record.v1 message.
func benchProtobuf(b *testing.B, id uint64, vec []float32, title string, year int64) []byte {
	str := func(s string) *recordpb.Value {
		return &recordpb.Value{Kind: &recordpb.Value_StringValue{StringValue: s}}
	}
	v, err := proto.Marshal(&recordpb.Record{
		Id:     &recordpb.Record_Num{Num: id},
		Vector: &recordpb.Record_Dense{Dense: &recordpb.DenseVector{Data: vec}},
		Payload: map[string]*recordpb.Value{
			"title": str(title),
			"year":  {Kind: &recordpb.Value_IntegerValue{IntegerValue: year}},
			"tags":  {Kind: &recordpb.Value_ListValue{ListValue: &recordpb.ListValue{Values: []*recordpb.Value{str("a"), str("b")}}}},
		},
	})
	if err != nil {
		b.Fatal(err)
	}
	return v
}

// benchSettings applies KQ_E2E_BENCH_SET ("key=value;key=value") to cfg.
func benchSettings(b *testing.B, cfg harness.ReplicaConfig) {
	for _, kv := range strings.Split(os.Getenv("KQ_E2E_BENCH_SET"), ";") {
		k, v, ok := strings.Cut(strings.TrimSpace(kv), "=")
		if !ok {
			continue
		}
		var x any
		if json.Unmarshal([]byte(v), &x) != nil {
			x = v
		}
		cfg.Set(k, x)
		b.Logf("%s = %v", k, x)
	}
}

// processUsage reads the CPU time (user and system) and the peak RSS
// (VmHWM) of a running process from /proc.
func processUsage(pid int) (time.Duration, int64, error) {
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, 0, err
	}
	// The fields after the command name (which may hold spaces): state is
	// field 3, utime 14, stime 15, in clock ticks (USER_HZ, 100 on Linux).
	f := strings.Fields(string(stat[strings.LastIndexByte(string(stat), ')')+1:]))
	if len(f) < 13 {
		return 0, 0, fmt.Errorf("/proc/%d/stat: %q", pid, stat)
	}
	utime, _ := strconv.ParseInt(f[11], 10, 64)
	stime, _ := strconv.ParseInt(f[12], 10, 64)
	cpu := time.Duration(utime+stime) * (time.Second / 100)
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, 0, err
	}
	var rss int64
	for _, line := range strings.Split(string(status), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			rss = kb << 10
		}
	}
	return cpu, rss, nil
}
