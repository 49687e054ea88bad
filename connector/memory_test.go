package connector

import (
	"context"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/seed-a550a1ef/kafka-qdrant/schemas"
	"github.com/seed-a550a1ef/kafka-qdrant/sink"
)

// decodedWatch is a Sink measuring the decoded records in the writes in
// flight at once, by a lower bound independent of the decoder's own
// estimate: every payload value of a decoded record is a qdrant.Value of
// at least 100 bytes (with its oneof wrapper and map slot, more).
type decodedWatch struct {
	Sink
	mu       sync.Mutex
	inflight int64
	peak     int64
	writes   int
}

func (w *decodedWatch) Write(ctx context.Context, coll string, ops []sink.Op) ([]sink.Rejected, error) {
	var n int64
	for _, op := range ops {
		n += int64(op.Record.MemBytes)
	}
	w.mu.Lock()
	w.inflight += n
	w.peak = max(w.peak, w.inflight)
	w.writes++
	w.mu.Unlock()
	defer func() {
		w.mu.Lock()
		w.inflight -= n
		w.mu.Unlock()
	}()
	time.Sleep(20 * time.Millisecond) // writes overlap across partitions
	return w.Sink.Write(ctx, coll, ops)
}

// TestDecodedMemoryBounded: payload-heavy records (200 small fields, about
// 3 KB in Kafka and decoded) on 4 partitions, whole batches of 200 records
// (600 KB decoded each) fetched at once, and batch.max_decoded_bytes of
// 1 MiB. The decoded records written at once never exceed the bound
// (plus one record per partition), kafka_qdrant_decoded_bytes stays within
// it, and everything is applied.
func TestDecodedMemoryBounded(t *testing.T) {
	const parts = 4
	e := newEnv(t, parts)
	watch := &decodedWatch{}
	e.wrapSink = func(s Sink) Sink { watch.Sink = s; return watch }
	cfg := e.testConfig()
	cfg.Batch.MaxRecords = 200
	cfg.Batch.Linger = 200 * time.Millisecond
	cfg.Batch.MaxDecodedBytes = 1 << 20
	one, err := schemas.NewDecoder(schemas.DecoderConfig{}).Decode([]byte("0"), payloadHeavy(0, 0))
	if err != nil {
		t.Fatal(err)
	}
	perRecord := int64(one.MemBytes) // decoded bytes of one record
	bound := int64(cfg.Batch.MaxDecodedBytes) + parts*perRecord

	want := map[uint64]point{}
	var recs []*kgo.Record
	for i := range 800 {
		id := uint64(i)
		seq := int64(i)
		recs = append(recs, &kgo.Record{Partition: int32(i % parts), Key: []byte(strconv.Itoa(i)), Value: payloadHeavy(id, seq)})
		want[id] = point{vec: vecFor(id, seq), seq: seq}
	}
	e.produce(recs...)
	m := e.start(cfg)
	var peakGauge float64
	waitFor(t, 60*time.Second, "everything applied and committed", func() error {
		peakGauge = max(peakGauge, gaugeValue(t, m.reg, "kafka_qdrant_decoded_bytes"))
		if err := e.contentEquals(e.topic, want); err != nil {
			return err
		}
		return e.committedEqualsEnd()
	})
	watch.mu.Lock()
	peak, writes := watch.peak, watch.writes
	watch.mu.Unlock()
	t.Logf("peak decoded bytes in writes at once >= %d (bound %d), %d writes; peak kafka_qdrant_decoded_bytes %.0f", peak, bound, writes, peakGauge)
	if peak > bound {
		t.Fatalf("writes in flight held at least %d bytes of decoded records at once, over batch.max_decoded_bytes %d (+ one record per partition)", peak, cfg.Batch.MaxDecodedBytes)
	}
	if peakGauge > float64(bound) {
		t.Fatalf("kafka_qdrant_decoded_bytes peaked at %.0f, over %d", peakGauge, bound)
	}
	if v := gaugeValue(t, m.reg, "kafka_qdrant_decoded_bytes"); v != 0 {
		t.Fatalf("kafka_qdrant_decoded_bytes = %v after everything was written, want 0", v)
	}
}

// payloadHeavy is an upsert whose payload has seq and 199 small fields.
func payloadHeavy(id uint64, seq int64) []byte {
	b := []byte(`{"id": ` + strconv.FormatUint(id, 10) + `, "vector": [`)
	for i, x := range vecFor(id, seq) {
		if i > 0 {
			b = append(b, ',')
		}
		b = strconv.AppendFloat(b, float64(x), 'g', -1, 32)
	}
	b = append(b, `], "payload": {"seq": `...)
	b = strconv.AppendInt(b, seq, 10)
	for f := 1; f < 200; f++ {
		b = append(b, `, "f`...)
		b = strconv.AppendInt(b, int64(f), 10)
		if f%2 == 0 {
			b = append(b, `": `...)
			b = strconv.AppendInt(b, int64(f), 10)
		} else {
			b = append(b, `": "v`...)
			b = strconv.AppendInt(b, int64(f%7), 10)
			b = append(b, '"')
		}
	}
	return append(b, "}}"...)
}
