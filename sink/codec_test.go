package sink

import (
	"bytes"
	"context"
	"maps"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/qdrant/go-client/qdrant"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	"github.com/seed-a550a1ef/kafka-qdrant/config"
	"github.com/seed-a550a1ef/kafka-qdrant/internal/qdrantmem"
	"github.com/seed-a550a1ef/kafka-qdrant/schemas"
)

// optsPoints records the call options of each UpdateBatch.
type optsPoints struct {
	fakePoints
	opts [][]grpc.CallOption
}

func (p *optsPoints) UpdateBatch(_ context.Context, req *qdrant.UpdateBatchPoints, opts ...grpc.CallOption) (*qdrant.UpdateBatchResponse, error) {
	p.opts = append(p.opts, opts)
	return completed(req), nil
}

// Every UpdateBatch of the writer forces the wire codec and keeps its
// trailer option.
func TestWriterForcesWireCodec(t *testing.T) {
	p := &optsPoints{}
	w := NewWriter(p, newFakeCollections(), WriterConfig{})
	if _, err := w.Write(context.Background(), "c", upserts(3)); err != nil {
		t.Fatal(err)
	}
	if len(p.opts) != 1 {
		t.Fatalf("%d calls, want 1", len(p.opts))
	}
	var codec, trailer bool
	for _, o := range p.opts[0] {
		switch o := o.(type) {
		case grpc.ForceCodecV2CallOption:
			_, codec = o.CodecV2.(updateBatchCodec)
		case grpc.TrailerCallOption:
			trailer = true
		}
	}
	if !codec || !trailer {
		t.Fatalf("call options %#v: wire codec %v, trailer %v; want both", p.opts[0], codec, trailer)
	}
}

func TestUpdateBatchCodec(t *testing.T) {
	c := updateBatchCodec{}
	if c.Name() != "" {
		t.Fatalf("Name() = %q, want empty (content-type application/grpc)", c.Name())
	}
	big := batchOf(upsertOp(pointWith(map[string]*qdrant.Value{"k": qdrant.NewValueString(strings.Repeat("x", 64<<10))})))
	defer sizeHint.Store(sizeHint.Load())
	for _, tt := range []struct {
		name string
		req  *qdrant.UpdateBatchPoints
		hint int64 // what Marshal asks the pool for
	}{
		{"small", batchOf(upsertOp(pointWith(nil))), 0},
		{"empty", &qdrant.UpdateBatchPoints{}, 0},
		{"large", big, 1 << 20},
		{"larger than the hint", big, 0},
		{"larger than the 1 MiB buffers", benchRequest(4096, 128), 1 << 20},
	} {
		t.Run(tt.name, func(t *testing.T) {
			req := tt.req
			sizeHint.Store(tt.hint)
			data, err := c.Marshal(req)
			if err != nil {
				t.Fatal(err)
			}
			defer data.Free()
			if data.Len() != proto.Size(req) {
				t.Fatalf("%d bytes, proto.Size = %d", data.Len(), proto.Size(req))
			}
			var back qdrant.UpdateBatchPoints
			if err := c.Unmarshal(data, &back); err != nil {
				t.Fatal(err)
			}
			if !proto.Equal(req, &back) {
				t.Fatal("round trip differs")
			}
		})
	}
	t.Run("other messages use the proto codec", func(t *testing.T) {
		msg := &qdrant.GetCollectionInfoRequest{CollectionName: "c"}
		data, err := c.Marshal(msg)
		if err != nil {
			t.Fatal(err)
		}
		want, _ := proto.Marshal(msg)
		if !bytes.Equal(data.Materialize(), want) {
			t.Fatalf("%x, want %x", data.Materialize(), want)
		}
		if _, err := c.Marshal("not a message"); err == nil {
			t.Fatal("marshalled a string")
		}
	})
	t.Run("invalid UTF-8", func(t *testing.T) {
		for _, req := range []*qdrant.UpdateBatchPoints{{CollectionName: "\xff"}, {CollectionName: strings.Repeat("x", 64<<10) + "\xff"}} {
			if _, err := c.Marshal(req); err == nil {
				t.Fatal("marshalled invalid UTF-8")
			}
		}
	})
}

// Over a real connection built by NewClient, a request sent with the wire
// codec reaches the server intact, with the API key added by the
// go-client's interceptor and the same content-type as the proto codec.
func TestWireCodecOverGRPC(t *testing.T) {
	got := make(chan *qdrant.UpdateBatchPoints, 4)
	rs := startServer(t, func(stream grpc.ServerStream) error {
		var req qdrant.UpdateBatchPoints
		if err := stream.RecvMsg(&req); err != nil {
			return err
		}
		got <- &req
		return status.Error(codes.Unimplemented, "test server")
	})
	c, err := NewClient(config.Qdrant{GRPC: rs.addr, APIKey: "s3cret"})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	g := newReqGen(7)
	req := batchOf(upsertOp(g.point(), g.point(), pointWith(qdrant.NewValueMap(map[string]any{
		"title": "doc 1", "year": int64(-1971), "tags": []any{"a", "ключ"}, "nested": map[string]any{"x": math.Inf(1), "n": nil},
	}))))
	var headers []metadata.MD
	for _, points := range []PointsAPI{withWireCodec(PooledPoints(c)), PooledPoints(c)} {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		_, err := points.UpdateBatch(ctx, req)
		cancel()
		if status.Code(err) != codes.Unimplemented {
			t.Fatalf("UpdateBatch: %v, want the server's Unimplemented", err)
		}
		if back := <-got; !proto.Equal(req, back) {
			t.Fatalf("server received\n%v\nwant\n%v", back, req)
		}
		headers = append(headers, <-rs.md)
	}
	wire, std := headers[0], headers[1]
	if k := wire.Get("api-key"); len(k) != 1 || k[0] != "s3cret" {
		t.Fatalf("api-key header %v, want [s3cret]", k)
	}
	if a, b := wire.Get("content-type"), std.Get("content-type"); len(a) != 1 || len(b) != 1 || a[0] != b[0] || a[0] != "application/grpc" {
		t.Fatalf("content-type %v with the wire codec, %v with the proto codec; want both application/grpc", a, b)
	}
}

// Through the writer, qdrantmem (with an API key) stores exactly the
// payloads and vectors sent: the fast encoder, the go-client interceptors
// and the server's decoder agree, with and without fencing.
func TestIntegrationWireCodecRoundTrip(t *testing.T) {
	for _, fencing := range []bool{false, true} {
		m := startMemWithKey(t, WriterConfig{Fencing: fencing}, "k", qdrantmem.WithAPIKey("k"))
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := m.client.CreateCollection(ctx, &qdrant.CreateCollection{
			CollectionName: "c",
			VectorsConfig:  qdrant.NewVectorsConfig(&qdrant.VectorParams{Size: 3, Distance: qdrant.Distance_Dot}),
		}); err != nil {
			t.Fatal(err)
		}
		payloads := []map[string]any{
			{"title": "doc 1", "year": int64(1971), "tags": []any{"a", "b"}},
			{"ключ 🦀": "значение", "neg": int64(math.MinInt64), "zero": 0.0, "t": true, "null": nil},
			{"nested": map[string]any{"deep": map[string]any{"list": []any{int64(1), "two", 3.5, []any{}}}}, "": ""},
			{},
		}
		var ops []Op
		for i, p := range payloads {
			id := qdrant.NewIDNum(math.MaxUint64 - uint64(i))
			if i%2 == 1 {
				id = qdrant.NewID("5c56c793-69f3-4fbf-87e6-c4bf54c28c2" + string(rune('0'+i)))
			}
			ops = append(ops, Op{Record: &schemas.Record{
				Op: schemas.OpUpsert, ID: id, Vectors: qdrant.NewVectorsDense([]float32{float32(i), -1.5, 1e-3}),
				Payload: payloadOf(p),
			}, Offset: int64(10 + i)})
		}
		if rejected, err := m.w.Write(ctx, "c", ops); err != nil || len(rejected) != 0 {
			t.Fatalf("fencing %v: Write = %v, %v", fencing, rejected, err)
		}
		stored, err := m.srv.Points("c")
		if err != nil {
			t.Fatal(err)
		}
		if len(stored) != len(ops) {
			t.Fatalf("fencing %v: %d points stored, want %d", fencing, len(stored), len(ops))
		}
		for i, op := range ops {
			var rp *qdrant.RetrievedPoint
			for _, p := range stored {
				if proto.Equal(p.GetId(), op.Record.ID) {
					rp = p
				}
			}
			if rp == nil {
				t.Fatalf("fencing %v: point %v not stored", fencing, op.Record.ID)
			}
			want := payloadMap(t, op.Record)
			if fencing {
				want = maps.Clone(want)
				if want == nil {
					want = map[string]*qdrant.Value{}
				}
				want[OffsetKey] = qdrant.NewValueInt(op.Offset)
			}
			if !proto.Equal(&qdrant.Struct{Fields: rp.GetPayload()}, &qdrant.Struct{Fields: want}) {
				t.Fatalf("fencing %v: point %d payload\n%v\nwant\n%v", fencing, i, rp.GetPayload(), want)
			}
			v := rp.GetVectors().GetVector()
			data := v.GetDense().GetData()
			if data == nil {
				data = v.GetData()
			}
			if wantV := op.Record.Vectors.GetVector().GetDense().GetData(); !equalFloats(data, wantV) {
				t.Fatalf("fencing %v: point %d vector %v, want %v", fencing, i, data, wantV)
			}
		}
	}
}

func equalFloats(a, b []float32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if math.Float32bits(a[i]) != math.Float32bits(b[i]) {
			return false
		}
	}
	return true
}

// Encoding allocates nothing per point: a Marshal of a 512-point request
// costs the same few allocations (the BufferSlice and its pooled Buffer)
// as one of a single point, and appendUpdateBatch into a large enough
// buffer allocates nothing at all.
func TestUpdateBatchEncodingAllocs(t *testing.T) {
	one, many := benchRequest(1, 128), benchRequest(512, 128)
	marshal := func(req *qdrant.UpdateBatchPoints) float64 {
		return testing.AllocsPerRun(20, func() {
			data, err := updateBatchCodec{}.Marshal(req)
			if err != nil {
				t.Fatal(err)
			}
			data.Free()
		})
	}
	if a, b := marshal(one), marshal(many); b > a || b > 3 {
		t.Fatalf("Marshal allocs: %v for 1 point, %v for 512; want at most 3 for both", a, b)
	}
	// A buffer of exactly the encoded size is large enough: the writers
	// never ask for more room than they use.
	for _, size := range []int{1 << 20, proto.Size(many)} {
		buf := make([]byte, 0, size)
		if n := testing.AllocsPerRun(20, func() {
			if _, err := appendUpdateBatch(buf, many); err != nil {
				t.Fatal(err)
			}
		}); n != 0 {
			t.Fatalf("appendUpdateBatch into %d bytes: allocs = %v, want 0", size, n)
		}
	}
}
