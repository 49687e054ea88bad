package connector

import (
	"context"
	"encoding/json"
	"os"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/qdrant/go-client/qdrant"
	"github.com/twmb/franz-go/pkg/kgo"
	"google.golang.org/protobuf/proto"

	"github.com/seed-a550a1ef/kafka-qdrant/config"
	"github.com/seed-a550a1ef/kafka-qdrant/internal/qdrantmem"
	"github.com/seed-a550a1ef/kafka-qdrant/schemas/recordpb"
)

// benchRecords is the size of the end-to-end benchmark (issue: 200k records
// of dimension 128 with a small payload on 4 partitions). KQ_BENCH_RECORDS
// overrides it.
func benchRecords() int {
	if s := os.Getenv("KQ_BENCH_RECORDS"); s != "" {
		if n, err := strconv.Atoi(s); err == nil && n > 0 {
			return n
		}
	}
	return 200_000
}

const benchDim = 128

// seedBench produces n records of dimension 128 over 4 partitions.
func seedBench(b *testing.B, e *env, n int) int64 { return seedBenchOn(b, e, n, 4, "json") }

// seedBenchOn produces n records of dimension 128 over parts partitions,
// in record.format format (json or protobuf).
func seedBenchOn(b *testing.B, e *env, n int, parts int32, format string) int64 {
	vec := make([]float32, benchDim)
	return seedRecords(b, e, n, func(i int) (int32, []byte) {
		for j := range vec {
			vec[j] = float32((i*31+j*7)%1000) / 997
		}
		title, year := "doc "+strconv.Itoa(i), 1970+i%50
		if format == "protobuf" {
			str := func(s string) *recordpb.Value {
				return &recordpb.Value{Kind: &recordpb.Value_StringValue{StringValue: s}}
			}
			v, err := proto.Marshal(&recordpb.Record{
				Id:     &recordpb.Record_Num{Num: uint64(i)},
				Vector: &recordpb.Record_Dense{Dense: &recordpb.DenseVector{Data: vec}},
				Payload: map[string]*recordpb.Value{"title": str(title), "year": {Kind: &recordpb.Value_IntegerValue{IntegerValue: int64(year)}},
					"tags": {Kind: &recordpb.Value_ListValue{ListValue: &recordpb.ListValue{Values: []*recordpb.Value{str("a"), str("b")}}}}},
			})
			if err != nil {
				b.Fatal(err)
			}
			return int32(i) % parts, v
		}
		v, _ := json.Marshal(map[string]any{
			"id": i, "vector": vec,
			"payload": map[string]any{"title": title, "year": year, "tags": []string{"a", "b"}},
		})
		return int32(i) % parts, v
	})
}

// seedRecords produces n records, value(i) giving each one's partition and
// value (the key is i).
func seedRecords(b *testing.B, e *env, n int, value func(i int) (int32, []byte)) int64 {
	// A producer with kgo's defaults (snappy-compressed batches up to 1 MB),
	// as a real producer would send them.
	prod, err := kgo.NewClient(kgo.SeedBrokers(e.brokers...), kgo.RecordPartitioner(kgo.ManualPartitioner()))
	if err != nil {
		b.Fatal(err)
	}
	defer prod.Close()
	var total int64
	recs := make([]*kgo.Record, 0, 2000)
	for i := range n {
		part, v := value(i)
		total += int64(len(v))
		recs = append(recs, &kgo.Record{Topic: e.topic, Partition: part, Key: []byte(strconv.Itoa(i)), Value: v})
		if len(recs) == cap(recs) {
			if err := prod.ProduceSync(context.Background(), recs...).FirstErr(); err != nil {
				b.Fatal(err)
			}
			recs = recs[:0]
		}
	}
	if len(recs) > 0 {
		if err := prod.ProduceSync(context.Background(), recs...).FirstErr(); err != nil {
			b.Fatal(err)
		}
	}
	return total
}

func newBenchEnv(b *testing.B) *env { return newBenchEnvWith(b, 4, benchDim) }

func newBenchEnvWith(b *testing.B, partitions int32, dim uint64) *env {
	e := newEnvTB(b, partitions)
	if err := e.qc.DeleteCollection(context.Background(), e.topic); err != nil {
		b.Fatal(err)
	}
	err := e.qc.CreateCollection(context.Background(), &qdrant.CreateCollection{
		CollectionName: e.topic,
		VectorsConfig:  qdrant.NewVectorsConfig(&qdrant.VectorParams{Size: dim, Distance: qdrant.Distance_Cosine}),
	})
	if err != nil {
		b.Fatal(err)
	}
	return e
}

// BenchmarkPipeline measures kfake → connector → in-memory Qdrant over
// loopback gRPC, end to end until every offset is committed, and the
// ceiling: a plain franz-go consumer on the same topic that only counts.
// Run with -benchtime=1x: each iteration processes the whole topic.
func BenchmarkPipeline(b *testing.B) {
	n := benchRecords()
	b.Run("ceiling", func(b *testing.B) {
		e := newBenchEnv(b)
		bytes := seedBench(b, e, n)
		b.SetBytes(bytes)
		b.ResetTimer()
		for i := range b.N {
			r := measure(b, func() {
				cl, err := kgo.NewClient(kgo.SeedBrokers(e.brokers...), kgo.ConsumeTopics(e.topic),
					kgo.ConsumerGroup("ceiling-"+strconv.Itoa(i)), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
				if err != nil {
					b.Fatal(err)
				}
				defer cl.Close()
				seen := 0
				for seen < n {
					fs := cl.PollFetches(context.Background())
					seen += fs.NumRecords()
				}
			})
			r.report(b, n)
		}
	})
	b.Run("connector", func(b *testing.B) {
		e := newBenchEnv(b)
		bytes := seedBench(b, e, n)
		b.SetBytes(bytes)
		runConnectorBench(b, e, n, n, nil)
	})
	// one-partition-5ms: the whole stream on one partition, against a
	// Qdrant that takes 5 ms more to answer each call, at the default
	// batch settings: how much a single partition gets through when
	// Qdrant's latency, not the CPU, bounds it. In JSON the run reaches
	// what this process's CPU (the fake broker and Qdrant included) can do
	// at all; the -protobuf run, at less CPU per record, shows how far
	// latency alone is hidden.
	for _, format := range []string{"json", "protobuf"} {
		name := "one-partition-5ms"
		if format != "json" {
			name += "-" + format
		}
		b.Run(name, func(b *testing.B) {
			e := newBenchEnvWith(b, 1, benchDim)
			e.qs.SetLatency(qdrantmem.MethodUpdateBatch, 5*time.Millisecond)
			bytes := seedBenchOn(b, e, n, 1, format)
			b.SetBytes(bytes)
			runConnectorBench(b, e, n, n, func(c *Config) {
				c.Batch = config.Default().Batch
				c.Record.Format = format
			})
		})
	}
	// payload-heavy: 16 partitions of records whose payload is 200 small
	// fields (about 2.2 KB of JSON, 2.9 KB decoded), ids repeating so
	// that the in-memory Qdrant stays small: what the replica holds after
	// decoding dominates its memory. KQ_BENCH_MAX_DECODED (bytes) overrides
	// batch.max_decoded_bytes.
	b.Run("payload-heavy", func(b *testing.B) {
		const parts, ids = 16, 512
		m := max(n/10, 1000)
		e := newBenchEnvWith(b, parts, 8)
		bytes := seedRecords(b, e, m, func(i int) (int32, []byte) { return int32(i % parts), payloadHeavyValue(i % ids) })
		b.SetBytes(bytes)
		runConnectorBench(b, e, m, min(m, ids), func(c *Config) {
			c.Batch.MaxRecords = 1024
			if v, err := strconv.ParseInt(os.Getenv("KQ_BENCH_MAX_DECODED"), 10, 64); err == nil && v > 0 {
				c.Batch.MaxDecodedBytes = config.ByteSize(v)
			}
		})
	})
}

// payloadHeavyValue is a record whose payload is 200 small fields.
func payloadHeavyValue(id int) []byte {
	p := make(map[string]any, 200)
	for f := range 200 {
		if f%2 == 0 {
			p["f"+strconv.Itoa(f)] = id + f
		} else {
			p["f"+strconv.Itoa(f)] = "v" + strconv.Itoa(f%7)
		}
	}
	v, _ := json.Marshal(map[string]any{"id": id, "vector": []float32{1, 2, 3, 4, 5, 6, 7, float32(id%5) + 1}, "payload": p})
	return v
}

// runConnectorBench runs the connector over the seeded topic of e until
// every offset is committed (each iteration with a fresh group) and checks
// that Qdrant holds points points.
func runConnectorBench(b *testing.B, e *env, n, points int, tune func(*Config)) {
	cfg := e.testConfig()
	cfg.Batch.MaxRecords = 512
	cfg.Batch.Linger = 5 * time.Millisecond
	cfg.Kafka.CommitInterval = 50 * time.Millisecond // the end is detected by committed offsets
	cfg.Kafka.DLQTopic = ""
	if tune != nil {
		tune(&cfg)
	}
	benchKnobs(&cfg)
	b.ResetTimer()
	for i := range b.N {
		e.group = "bench-" + strconv.Itoa(i)
		cfg.Kafka.Group = e.group
		var m *member
		r := measure(b, func() {
			m = e.start(cfg)
			deadline := time.Now().Add(10 * time.Minute)
			for e.committedEqualsEnd() != nil {
				if time.Now().After(deadline) {
					b.Fatal("pipeline did not finish in 10 minutes")
				}
				time.Sleep(10 * time.Millisecond)
			}
		})
		b.StopTimer()
		m.stop(b)
		got, err := e.qc.Count(context.Background(), &qdrant.CountPoints{CollectionName: e.topic, Exact: qdrant.PtrOf(true)})
		if err != nil || got != uint64(points) {
			b.Fatalf("qdrant has %d points (err %v), want %d", got, err, points)
		}
		b.StartTimer()
		r.report(b, n)
	}
}

type measurement struct {
	wall    time.Duration
	cpu     time.Duration
	mallocs uint64
	peakRSS int64
}

// measure runs f and reports its wall and CPU time, its allocations and the
// peak RSS of the process while it ran (KQ_BENCH_CPUPROFILE: f's CPU
// profile, written to that file) (the peak is reset first, so the
// seeding of the topic does not count; where the reset is not possible the
// peak since the process started is reported).
func measure(b *testing.B, f func()) measurement {
	var ms0, ms1 runtime.MemStats
	debug.FreeOSMemory() // what earlier runs left is returned before the peak is reset
	resetPeakRSS()
	runtime.ReadMemStats(&ms0)
	cpu0 := cpuTime()
	start := time.Now()
	if path := os.Getenv("KQ_BENCH_CPUPROFILE"); path != "" {
		// The run alone (not the seeding of the topic), e.g. for
		// go tool pprof -top -focus 'connector|schemas|sink' connector.test cpu.prof
		out, err := os.Create(path)
		if err != nil {
			b.Fatal(err)
		}
		defer out.Close()
		if err := pprof.StartCPUProfile(out); err != nil {
			b.Fatal(err)
		}
		defer pprof.StopCPUProfile()
	}
	f()
	wall := time.Since(start)
	cpu := cpuTime() - cpu0
	runtime.ReadMemStats(&ms1)
	return measurement{wall: wall, cpu: cpu, mallocs: ms1.Mallocs - ms0.Mallocs, peakRSS: peakRSS()}
}

func (m measurement) report(b *testing.B, n int) {
	b.ReportMetric(float64(n)/m.wall.Seconds(), "records/s")
	b.ReportMetric(m.cpu.Seconds()*100_000/float64(n), "cpu-s/100k")
	b.ReportMetric(float64(m.mallocs)/float64(n), "allocs/record")
	b.ReportMetric(float64(m.peakRSS)/(1<<20), "peak-rss-MiB")
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// resetPeakRSS resets the kernel's peak RSS (VmHWM) of this process to its
// current RSS (Linux: "5" to /proc/self/clear_refs).
func resetPeakRSS() { _ = os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) }

// peakRSS reads VmHWM (bytes) from /proc/self/status; 0 where unavailable.
func peakRSS() int64 {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(data), "\n") {
		if strings.HasPrefix(line, "VmHWM:") {
			f := strings.Fields(line)
			if len(f) >= 2 {
				kb, _ := strconv.ParseInt(f[1], 10, 64)
				return kb << 10
			}
		}
	}
	return 0
}
