package e2e

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/qdrant/go-client/qdrant"

	"github.com/seed-a550a1ef/kafka-qdrant/control/backup"
	"github.com/seed-a550a1ef/kafka-qdrant/e2e/internal/harness"
	"github.com/seed-a550a1ef/kafka-qdrant/schemas"
)

// BenchmarkBackupRestore backs up and restores a collection whose snapshot
// is over 1 GiB (KQ_E2E_BENCH_POINTS points of dimension 1024, default
// 270k: 4 KiB of vector each) through one replica process, on the
// environment's servers and backup store (S3 with KAFKA=real), and checks
// that the replica's resident memory grows by less than 64 MiB: snapshots
// stream through it. It reports MB/s of each direction (snapshot bytes
// over the command's duration, from its accepted to its final status) and
// the RSS growth (VmHWM after both minus VmRSS before). Points are written
// to Qdrant directly: the topic is not what is measured. Run with
//
//	KAFKA=real E2E_BENCH=BackupRestore ./scripts/e2e.sh
func BenchmarkBackupRestore(b *testing.B) {
	n := benchSize(b, "KQ_E2E_BENCH_POINTS", 270_000)
	const dim = 1024
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Minute)
	defer cancel()
	for range b.N {
		b.StopTimer()
		s := env.NewScenario(b, harness.ScenarioOptions{Partitions: 2, Dim: dim})
		s.DropAtEnd(s.Collection + "-restored")
		loadDirect(ctx, b, s, n, dim)
		r := s.Start(ctx, "bench", nil)
		time.Sleep(2 * time.Second) // settle after start-up
		before, _, err := procMemory(r.Pid())
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()

		bk := benchCommand(ctx, b, s, "backup", s.Collection, "--id", "bench-backup", "--wait", "--timeout", "50m")
		res := result[backup.BackupResult](b, bk.final)
		rs := benchCommand(ctx, b, s, "restore", s.Collection, "--backup", res.BackupID, "--into", s.Collection+"-restored", "--wait", "--timeout", "50m")

		b.StopTimer()
		_, peak, err := procMemory(r.Pid())
		if err != nil {
			b.Fatal(err)
		}
		info, err := s.Env.QdrantClient.GetCollectionInfo(ctx, s.Collection+"-restored")
		if err != nil || info.GetPointsCount() != uint64(n) {
			b.Fatalf("restored collection: %v points, %v", info.GetPointsCount(), err)
		}
		growth := peak - before
		mb := float64(res.Bytes) / 1e6
		b.ReportMetric(float64(res.Bytes)/(1<<30), "snapshot-GiB")
		b.ReportMetric(mb/bk.seconds, "backup-MB/s")
		b.ReportMetric(mb/rs.seconds, "restore-MB/s")
		b.ReportMetric(float64(growth)/(1<<20), "rss-growth-MiB")
		s.Logf("snapshot %.2f GiB: backup %.1fs (%.1f MB/s), restore %.1fs (%.1f MB/s); RSS %d MiB before, peak %d MiB (+%d MiB)",
			float64(res.Bytes)/(1<<30), bk.seconds, mb/bk.seconds, rs.seconds, mb/rs.seconds, before>>20, peak>>20, growth>>20)
		if res.Bytes < 1<<30 {
			b.Fatalf("the snapshot has %d bytes, less than 1 GiB: raise KQ_E2E_BENCH_POINTS", res.Bytes)
		}
		if growth >= 64<<20 {
			b.Fatalf("the replica's RSS grew by %d MiB (limit 64 MiB)", growth>>20)
		}
	}
}

// loadDirect upserts n points of dimension dim into the scenario's
// collection with the gRPC client.
func loadDirect(ctx context.Context, b *testing.B, s *harness.Scenario, n, dim int) {
	b.Helper()
	const batch = 500
	for lo := 0; lo < n; lo += batch {
		pts := make([]*qdrant.PointStruct, 0, batch)
		for i := lo; i < min(lo+batch, n); i++ {
			v := make([]float32, dim)
			for j := range v {
				v[j] = float32((i*31+j*7)%1000)/997 + 0.001
			}
			payload, err := qdrant.TryValueMap(map[string]any{"i": i})
			if err != nil {
				b.Fatal(err)
			}
			pts = append(pts, &qdrant.PointStruct{Id: qdrant.NewIDNum(uint64(i)), Vectors: qdrant.NewVectorsDense(v), Payload: payload})
		}
		if _, err := s.Env.QdrantClient.Upsert(ctx, &qdrant.UpsertPoints{CollectionName: s.Collection, Points: pts, Wait: qdrant.PtrOf(true)}); err != nil {
			b.Fatal(err)
		}
	}
}

type benchRun struct {
	final   schemas.Status
	seconds float64
}

// benchCommand runs a ctl command to success and times it from its first
// status event (accepted) to its final one.
func benchCommand(ctx context.Context, b *testing.B, s *harness.Scenario, args ...string) benchRun {
	b.Helper()
	code, events := s.Ctl(ctx, args...)
	final, err := harness.Final(events)
	if code != 0 || err != nil || final.State != schemas.StateSucceeded {
		b.Fatalf("ctl %v: exit %d, %+v (%v)", args, code, final, err)
	}
	return benchRun{final: final, seconds: final.Time.Sub(events[0].Time).Seconds()}
}

// procMemory reads a process's VmRSS and VmHWM (peak RSS) in bytes.
func procMemory(pid int) (rss, hwm int64, err error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if !ok || (k != "VmRSS" && k != "VmHWM") {
			continue
		}
		kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
		if err != nil {
			return 0, 0, err
		}
		if k == "VmRSS" {
			rss = kb << 10
		} else {
			hwm = kb << 10
		}
	}
	return rss, hwm, sc.Err()
}
