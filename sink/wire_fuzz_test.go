package sink

import (
	"bytes"
	"math/rand/v2"
	"testing"

	"github.com/qdrant/go-client/qdrant"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// FuzzWire: whatever UpdateBatchPoints protobuf-go decodes from the fuzzed
// bytes (unknown fields, NaNs, deprecated fields and all), the generated
// encoder writes it back so that it decodes into an equal message, with
// proto.Size's length, and fails exactly when proto.Marshal fails.
//
//	go test -run '^$' -fuzz FuzzWire -fuzztime 60s ./sink
func FuzzWire(f *testing.F) {
	// Seeds: the writer's shapes (reqGen) and every field of every
	// message (anyGen).
	g := &anyGen{set: map[protoreflect.FullName]bool{}}
	for seed := range uint64(64) {
		if b, err := proto.Marshal(newReqGen(seed).request()); err == nil {
			f.Add(b)
		}
		g.r = rand.New(rand.NewPCG(seed, 0xf022))
		req := &qdrant.UpdateBatchPoints{}
		g.fill(req.ProtoReflect(), 0)
		if b, err := proto.Marshal(req); err == nil {
			f.Add(b)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var in qdrant.UpdateBatchPoints
		if err := proto.Unmarshal(data, &in); err != nil {
			t.Skip()
		}
		enc, err := appendUpdateBatch(nil, &in)
		if _, perr := proto.Marshal(&in); (err == nil) != (perr == nil) {
			t.Fatalf("appendUpdateBatch error %v, proto.Marshal error %v", err, perr)
		}
		if err != nil {
			return
		}
		if len(enc) != proto.Size(&in) {
			t.Fatalf("encoded %d bytes, proto.Size = %d", len(enc), proto.Size(&in))
		}
		var back qdrant.UpdateBatchPoints
		if err := proto.Unmarshal(enc, &back); err != nil {
			t.Fatalf("decoding the encoding: %v", err)
		}
		if !proto.Equal(&in, &back) {
			t.Fatalf("decoded message differs\n got: %v\nwant: %v", &back, &in)
		}
		// Byte for byte too (Equal does not see float bit patterns of NaN).
		det := proto.MarshalOptions{Deterministic: true}
		a, _ := det.Marshal(&in)
		b, _ := det.Marshal(&back)
		if !bytes.Equal(a, b) {
			t.Fatal("decoded message re-encodes differently")
		}
	})
}
