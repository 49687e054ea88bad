package devenv

import (
	"bytes"
	"context"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hamba/avro/v2"
	"github.com/qdrant/go-client/qdrant"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sr"
	"google.golang.org/protobuf/proto"

	"github.com/seed-a550a1ef/kafka-qdrant/schemas/recordpb"
)

// syncBuffer is a bytes.Buffer safe for the concurrent write (Run) and
// reads (the test).
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestDevEndToEnd runs `kafka-qdrant dev` on free ports: a record produced
// to the topic ends up as a point, a bad one in the DLQ, and the printed
// instructions name the real addresses.
func TestDevEndToEnd(t *testing.T) {
	o := DefaultOptions()
	o.DataDir = t.TempDir()
	o.KafkaAddr = "127.0.0.1:0"
	o.QdrantGRPC = freeAddr(t)
	o.QdrantREST = "127.0.0.1:0"
	o.HTTPListen = "127.0.0.1:0"
	o.RegistryAddr = "127.0.0.1:0"
	var out syncBuffer
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- Run(ctx, context.Background(), o, slog.New(slog.DiscardHandler), &out) }()
	defer func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Run: %v", err)
			}
		case <-time.After(30 * time.Second):
			t.Error("dev did not stop")
		}
	}()

	var broker string
	waitFor(t, "usage printed", func() bool {
		s := out.String()
		i := strings.Index(s, "Kafka (embedded):")
		if i < 0 {
			return false
		}
		broker = strings.Fields(s[i+len("Kafka (embedded):"):])[0]
		return true
	})
	if !strings.Contains(out.String(), "kcat -P -b "+broker+" -t vectors") {
		t.Fatalf("usage lacks a kcat produce line for %s:\n%s", broker, out.String())
	}
	cl, err := kgo.NewClient(kgo.SeedBrokers(broker))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	err = cl.ProduceSync(ctx,
		&kgo.Record{Topic: "vectors", Key: []byte("42"), Value: []byte(`{"vector": [0.1, 0.2, 0.3, 0.4], "payload": {"title": "Alien"}}`)},
		&kgo.Record{Topic: "vectors", Key: []byte("43"), Value: []byte(`{"vector": [0.1]}`)},
	).FirstErr()
	if err != nil {
		t.Fatal(err)
	}
	host, port, _ := net.SplitHostPort(o.QdrantGRPC)
	qc, err := qdrant.NewClient(&qdrant.Config{Host: host, Port: atoi(port)})
	if err != nil {
		t.Fatal(err)
	}
	defer qc.Close()
	waitFor(t, "point 42 in qdrant", func() bool {
		pts, err := qc.Get(ctx, &qdrant.GetPoints{CollectionName: "vectors", Ids: []*qdrant.PointId{qdrant.NewIDNum(42)}, WithPayload: qdrant.NewWithPayload(true)})
		return err == nil && len(pts) == 1 && pts[0].GetPayload()["title"].GetStringValue() == "Alien"
	})
	// The binary topics: record.v1 Protobuf, and Avro through the
	// embedded registry, as a producer's serializer registers it.
	regURL := strings.Fields(out.String()[strings.Index(out.String(), "Schema Registry:")+len("Schema Registry:"):])[0]
	rc, err := sr.NewClient(sr.URLs(regURL))
	if err != nil {
		t.Fatal(err)
	}
	const avsc = `{"type": "record", "name": "Movie", "fields": [{"name": "id", "type": "long"}, {"name": "vector", "type": {"type": "array", "items": "float"}}]}`
	ss, err := rc.CreateSchema(ctx, "vectors.registry-value", sr.Schema{Schema: avsc})
	if err != nil {
		t.Fatal(err)
	}
	av, err := avro.Marshal(avro.MustParse(avsc), map[string]any{"id": int64(44), "vector": []float32{1, 2, 3, 4}})
	if err != nil {
		t.Fatal(err)
	}
	framed, _ := new(sr.ConfluentHeader).AppendEncode(nil, ss.ID, nil)
	pb, err := proto.Marshal(&recordpb.Record{Id: &recordpb.Record_Num{Num: 45},
		Vector: &recordpb.Record_Dense{Dense: &recordpb.DenseVector{Data: []float32{4, 3, 2, 1}}}})
	if err != nil {
		t.Fatal(err)
	}
	err = cl.ProduceSync(ctx,
		&kgo.Record{Topic: "vectors.registry", Key: []byte("44"), Value: append(framed, av...)},
		&kgo.Record{Topic: "vectors.protobuf", Key: []byte("45"), Value: pb},
	).FirstErr()
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, "points 44 (Avro) and 45 (Protobuf) in qdrant", func() bool {
		pts, err := qc.Get(ctx, &qdrant.GetPoints{CollectionName: "vectors", Ids: []*qdrant.PointId{qdrant.NewIDNum(44), qdrant.NewIDNum(45)}})
		return err == nil && len(pts) == 2
	})
	if b, err := os.ReadFile(filepath.Join(o.DataDir, "schema-registry.json")); err != nil || !strings.Contains(string(b), `"vectors.registry-value"`) {
		t.Fatalf("registered schema not saved in the data dir: %s, %v", b, err)
	}
	dlq, err := kgo.NewClient(kgo.SeedBrokers(broker), kgo.ConsumeTopics("vectors.dlq"), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer dlq.Close()
	pctx, pcancel := context.WithTimeout(ctx, 20*time.Second)
	defer pcancel()
	fs := dlq.PollFetches(pctx)
	if recs := fs.Records(); len(recs) != 1 || string(recs[0].Key) != "43" {
		t.Fatalf("DLQ records = %v (errors %v), want the record with key 43", recs, fs.Errors())
	}
}

func freeAddr(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

func atoi(s string) int {
	n := 0
	for _, c := range s {
		n = n*10 + int(c-'0')
	}
	return n
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestRegistryKeepsSchemas: the embedded registry's schemas survive a
// restart, under their ids, references included.
func TestRegistryKeepsSchemas(t *testing.T) {
	file := filepath.Join(t.TempDir(), "reg", "schema-registry.json")
	r, err := StartRegistry("127.0.0.1:0", file)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	rc, err := sr.NewClient(sr.URLs(r.URL()))
	if err != nil {
		t.Fatal(err)
	}
	base, err := rc.CreateSchema(ctx, "base", sr.Schema{Schema: `{"type": "record", "name": "B", "fields": []}`})
	if err != nil {
		t.Fatal(err)
	}
	top, err := rc.CreateSchema(ctx, "top", sr.Schema{Schema: `{"type": "record", "name": "T", "fields": [{"name": "b", "type": "B"}]}`,
		References: []sr.SchemaReference{{Name: "B", Subject: "base", Version: base.Version}}})
	if err != nil {
		t.Fatal(err)
	}
	r.Close()

	r, err = StartRegistry("127.0.0.1:0", file)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if rc, err = sr.NewClient(sr.URLs(r.URL())); err != nil {
		t.Fatal(err)
	}
	got, err := rc.SchemaByID(ctx, top.ID)
	if err != nil || len(got.References) != 1 || got.References[0].Subject != "base" {
		t.Fatalf("schema %d after a restart: %+v, %v", top.ID, got, err)
	}
}
