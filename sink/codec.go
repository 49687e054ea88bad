package sink

import (
	"context"
	"slices"
	"sync/atomic"

	"github.com/qdrant/go-client/qdrant"
	"google.golang.org/grpc"
	"google.golang.org/grpc/encoding"
	grpcproto "google.golang.org/grpc/encoding/proto"
	"google.golang.org/grpc/mem"
)

// updateBatchCodec is the gRPC codec of the writer's UpdateBatch calls. It
// marshals *qdrant.UpdateBatchPoints with the generated encoder (wire.go,
// wire_gen.go) and everything else, and every Unmarshal,
// with gRPC's standard proto codec.
//
// It is never registered (encoding.RegisterCodecV2 would make it the
// process-wide "proto" codec); the writer passes it per call with
// grpc.ForceCodecV2 (withWireCodec). Its Name is empty so that the call
// keeps the content-type "application/grpc" the standard codec sends:
// grpc-go turns a forced codec's name into a content-subtype
// ("application/grpc+<name>"), and Qdrant and the proxies in front of it
// should not see the connector's requests change.
//
// Interceptors on the connection (the go-client's API-key and rate-limit
// interceptors) are unaffected: the codec is a call option that they pass
// through to the invoker with the others.
type updateBatchCodec struct{}

// protoCodec is gRPC's standard codec, registered by grpc/encoding/proto.
var protoCodec = encoding.GetCodecV2(grpcproto.Name)

// sizeHint is the size of the last request: what Marshal asks gRPC's
// buffer pool for. The one-pass encoder needs a buffer before it knows
// the size; when this one is too small it grows through the pool.
var sizeHint atomic.Int64

// Marshal encodes v. The buffer of a large request comes from gRPC's
// shared buffer pool and goes back to it once gRPC has written the
// request, as with the standard codec.
func (updateBatchCodec) Marshal(v any) (mem.BufferSlice, error) {
	req, ok := v.(*qdrant.UpdateBatchPoints)
	if !ok || wireSchemaErr() != nil {
		return protoCodec.Marshal(v)
	}
	pool := mem.DefaultBufferPool()
	buf := pool.Get(int(max(sizeHint.Load(), 4096)))
	w := revBuf{b: (*buf)[:cap(*buf)], pool: pool, pooled: buf}
	w.i = len(w.b)
	enc, err := w.updateBatch(req)
	if err != nil {
		pool.Put(w.pooled)
		return nil, err
	}
	sizeHint.Store(int64(len(enc)))
	if mem.IsBelowBufferPoolingThreshold(len(enc)) {
		enc = slices.Clone(enc)
		pool.Put(w.pooled)
		return mem.BufferSlice{mem.SliceBuffer(enc)}, nil
	}
	// The encoding ends the buffer; gRPC wants it at the front.
	*w.pooled = w.b[:copy(w.b, enc)]
	return mem.BufferSlice{mem.NewBuffer(w.pooled, pool)}, nil
}

// Unmarshal decodes data with the standard proto codec.
func (updateBatchCodec) Unmarshal(data mem.BufferSlice, v any) error {
	return protoCodec.Unmarshal(data, v)
}

// Name is empty: see updateBatchCodec.
func (updateBatchCodec) Name() string { return "" }

// wireCodecOption forces updateBatchCodec on one call.
var wireCodecOption = grpc.ForceCodecV2(updateBatchCodec{})

// withWireCodec wraps points so that every UpdateBatch is marshalled by
// updateBatchCodec. Call options other than the codec pass through, in
// order. Implementations that ignore call options (test fakes) are
// unaffected. The other methods pass through untouched.
func withWireCodec(points PointsAPI) PointsAPI { return wireCodecPoints{points} }

type wireCodecPoints struct{ PointsAPI }

func (p wireCodecPoints) UpdateBatch(ctx context.Context, in *qdrant.UpdateBatchPoints, opts ...grpc.CallOption) (*qdrant.UpdateBatchResponse, error) {
	return p.PointsAPI.UpdateBatch(ctx, in, append(opts[:len(opts):len(opts)], wireCodecOption)...)
}
