package sink

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"slices"
	"sync"
	"unicode/utf8"

	"github.com/qdrant/go-client/qdrant"
	"google.golang.org/grpc/mem"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/seed-a550a1ef/kafka-qdrant/sink/internal/wireschema"
)

//go:generate go run ./internal/wiregen -o wire_gen.go

// This file and the generated wire_gen.go are a protobuf encoder for the
// one message the writer sends, qdrant.UpdateBatchPoints. protobuf-go's
// reflective encoder spends most of its time on the payload maps
// (map<string, Value>: a reflective map iteration and several allocations
// per entry); this one walks the generated structs directly and allocates
// nothing but its output buffer.
//
// wire_gen.go is written by sink/internal/wiregen from the go-client's
// descriptors: for every message reachable from UpdateBatchPoints, sizeX
// (the body's encoded size, as proto.Size) and revBuf.writeX (the body).
// This file holds what they call: the output buffer and one writer per
// wire type. Upgrading the go-client is `go generate ./sink`; until then
// wiregen's TestGeneratedFileUpToDate fails, and a binary built anyway
// encodes with protobuf-go (checkWireSchema), slower but never wrong.
//
// The encoding is one pass, written back to front: a message's body is
// written before its length prefix, so no nested size is computed and
// nothing is moved (except when the buffer grows, and once at the end).
// The size functions are for callers that need a size without the bytes.
//
// The output is valid proto3 wire format that decodes (proto.Unmarshal)
// into a message proto.Equal to the input, with proto.Size's length. Like
// proto.Marshal without Deterministic it does not promise one byte order
// for map entries; otherwise the bytes are proto.Marshal's: fields in
// number order, unknown fields last. Like proto.Marshal it reports string
// fields (and map keys) that are not valid UTF-8 as an error, and it must
// not run while another goroutine modifies the request.

// Wire types, for the tags wire_gen.go writes (field<<3 | type). Packed
// repeated fields are length-delimited.
const (
	wireVarint  = uint64(protowire.VarintType)
	wireFixed32 = uint64(protowire.Fixed32Type)
	wireFixed64 = uint64(protowire.Fixed64Type)
	wireBytes   = uint64(protowire.BytesType)
)

// errInvalidUTF8 is wrapped by the encoder's error for a string field that
// is not valid UTF-8 (proto3 requires it; protobuf-go refuses it too).
var errInvalidUTF8 = errors.New("string field contains invalid UTF-8")

// sizeUpdateBatch is proto.Size(req): the exact length appendUpdateBatch
// and the codec produce.
func sizeUpdateBatch(req *qdrant.UpdateBatchPoints) int {
	if wireSchemaErr() != nil {
		return proto.Size(req)
	}
	return sizeUpdateBatchPoints(req)
}

// sizePointParts is proto.Size of a PointStruct with these fields (and no
// unknown fields), without building one: the writer sizes each record's
// point before it builds a request, to split requests by size.
func sizePointParts(id *qdrant.PointId, vectors *qdrant.Vectors, payload map[string]*qdrant.Value) int {
	if wireSchemaErr() != nil {
		return proto.Size(&qdrant.PointStruct{Id: id, Vectors: vectors, Payload: payload})
	}
	return sizePointStructParts(id, payload, vectors)
}

// appendUpdateBatch appends the protobuf encoding of req to dst. The result
// decodes into a message proto.Equal to req, and len(result)-len(dst) ==
// proto.Size(req). On error (a string field that is not valid UTF-8) it
// returns dst unchanged and an error that names the field.
//
// It allocates nothing when dst has room for the encoding. req must not
// be modified concurrently.
func appendUpdateBatch(dst []byte, req *qdrant.UpdateBatchPoints) ([]byte, error) {
	if wireSchemaErr() != nil {
		return proto.MarshalOptions{}.MarshalAppend(dst, req)
	}
	// Write into dst's spare capacity, then move the result to its front.
	spare := dst[len(dst):cap(dst)]
	w := revBuf{b: spare, i: len(spare)}
	enc, err := w.updateBatch(req)
	if err != nil {
		return dst, err
	}
	if w.grew {
		return append(dst, enc...), nil
	}
	return dst[:len(dst)+copy(spare, enc)], nil
}

// updateBatch encodes req; the result is w.b[w.i:].
func (w *revBuf) updateBatch(req *qdrant.UpdateBatchPoints) ([]byte, error) {
	w.writeUpdateBatchPoints(req)
	if w.err != nil {
		return nil, fmt.Errorf("encoding UpdateBatchPoints: %w", w.err)
	}
	return w.b[w.i:], nil
}

// wireSchemaErr is checkWireSchema's verdict on the go-client linked in.
var wireSchemaErr = sync.OnceValue(func() error {
	return checkWireSchema((&qdrant.UpdateBatchPoints{}).ProtoReflect().Descriptor())
})

// checkWireSchema reports whether the messages reachable from root are
// exactly those wire_gen.go was generated for, field for field. When they
// are not, wire_gen.go would drop the fields it does not know.
func checkWireSchema(root protoreflect.MessageDescriptor) error {
	mds := wireschema.Reachable(root)
	if len(mds) != len(wireSchema) {
		return fmt.Errorf("%d messages reachable from %s, wire_gen.go covers %d: run go generate ./sink",
			len(mds), root.FullName(), len(wireSchema))
	}
	for _, md := range mds {
		if got, want := wireschema.Signature(md), wireSchema[md.FullName()]; got != want {
			return fmt.Errorf("%s is {%s}, wire_gen.go was generated for {%s}: run go generate ./sink", md.FullName(), got, want)
		}
	}
	return nil
}

// revBuf is an output buffer filled from the end: b[i:] is written. It
// grows when full. The first error is kept in err and ends nothing: the
// buffer stays consistent and the caller checks err once at the end.
type revBuf struct {
	b   []byte
	i   int
	err error

	// pool, if set, is where grow gets larger buffers; pooled is the
	// pool's buffer that b is, which grow gives back.
	pool   mem.BufferPool
	pooled *[]byte
	grew   bool // b is not the buffer revBuf started with
}

// len is the number of bytes written: a mark that stays valid when the
// buffer grows (an index would not).
func (w *revBuf) len() int { return len(w.b) - w.i }

// room makes sure n more bytes fit in front of b[i:].
func (w *revBuf) room(n int) {
	if w.i < n {
		w.grow(n)
	}
}

// grow moves the written bytes to the end of a buffer at least twice as
// large with room for n more. Not inlined: room is on every write's path
// and grow on almost none.
//
//go:noinline
func (w *revBuf) grow(n int) {
	used := w.len()
	size := max(2*len(w.b), used+n, 4096)
	var b []byte
	if w.pool != nil {
		p := w.pool.Get(size)
		b = (*p)[:cap(*p)]
		copy(b[len(b)-used:], w.b[w.i:])
		w.pool.Put(w.pooled)
		w.pooled = p
	} else {
		b = make([]byte, size)
		copy(b[size-used:], w.b[w.i:])
	}
	w.b, w.i, w.grew = b, len(b)-used, true
}

// fail records err unless an earlier error is recorded.
func (w *revBuf) fail(err error) {
	if w.err == nil {
		w.err = err
	}
}

// putVarint writes v as a base-128 varint; the caller made room for it.
func (w *revBuf) putVarint(v uint64) {
	if v < 0x80 {
		w.i--
		w.b[w.i] = byte(v)
		return
	}
	n := protowire.SizeVarint(v)
	w.i -= n
	b := w.b[w.i : w.i+n]
	for j := range n - 1 {
		b[j] = byte(v) | 0x80
		v >>= 7
	}
	b[n-1] = byte(v)
}

// tagLen writes the tag and length prefix of a length-delimited field
// whose contents were written since w.len() was mark. The common case, a
// one-byte tag (field numbers below 16) and a body under 128 bytes, is
// inlined.
func (w *revBuf) tagLen(tag uint64, mark int) {
	n := uint64(w.len() - mark)
	if i := w.i - 2; tag|n < 0x80 && i >= 0 {
		w.b[i], w.b[i+1] = byte(tag), byte(n)
		w.i = i
		return
	}
	w.tagLenSlow(tag, n)
}

func (w *revBuf) tagLenSlow(tag, n uint64) {
	w.room(protowire.SizeVarint(n) + protowire.SizeVarint(tag))
	w.putVarint(n)
	w.putVarint(tag)
}

// Each writer below makes room for exactly what it writes, so that a
// buffer of exactly the encoded size never grows.

// raw writes b as is (unknown fields, which are almost always empty).
func (w *revBuf) raw(b []byte) {
	if len(b) > 0 {
		w.rawSlow(b)
	}
}

func (w *revBuf) rawSlow(b []byte) {
	w.room(len(b))
	w.i -= len(b)
	copy(w.b[w.i:], b)
}

// str writes string field tag. field names it in the UTF-8 error.
func (w *revBuf) str(tag uint64, s, field string) {
	if !validUTF8(s) {
		w.fail(fmt.Errorf("%s: %w", field, errInvalidUTF8))
	}
	w.room(len(s))
	mark := w.len()
	w.i -= len(s)
	copy(w.b[w.i:], s)
	w.tagLen(tag, mark)
}

// validUTF8 is utf8.ValidString with the short ASCII strings of payload
// keys and values checked inline.
func validUTF8(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return utf8.ValidString(s[i:])
		}
	}
	return true
}

// varintField writes a varint field.
func (w *revBuf) varintField(tag, v uint64) {
	w.room(protowire.SizeVarint(v) + protowire.SizeVarint(tag))
	w.putVarint(v)
	w.putVarint(tag)
}

// boolField writes a bool field.
func (w *revBuf) boolField(tag uint64, v bool) {
	w.room(1 + protowire.SizeVarint(tag))
	w.i--
	w.b[w.i] = 0
	if v {
		w.b[w.i] = 1
	}
	w.putVarint(tag)
}

// fixed32Field writes a fixed32 (float) field.
func (w *revBuf) fixed32Field(tag uint64, v uint32) {
	w.room(4 + protowire.SizeVarint(tag))
	w.i -= 4
	binary.LittleEndian.PutUint32(w.b[w.i:], v)
	w.putVarint(tag)
}

// fixed64Field writes a fixed64 (double) field.
func (w *revBuf) fixed64Field(tag uint64, v uint64) {
	w.room(8 + protowire.SizeVarint(tag))
	w.i -= 8
	binary.LittleEndian.PutUint64(w.b[w.i:], v)
	w.putVarint(tag)
}

// packedFloats writes a packed repeated float field; nothing when empty.
func (w *revBuf) packedFloats(tag uint64, v []float32) {
	if len(v) == 0 {
		return
	}
	w.room(4 * len(v))
	mark := w.len()
	w.i -= 4 * len(v)
	putFloats(w.b[w.i:w.i+4*len(v)], v)
	w.tagLen(tag, mark)
}

// putFloats writes v into b (4*len(v) bytes) as IEEE 754 binary32,
// little-endian, bit for bit (NaN payloads included): the wire format,
// and on little-endian machines the memory layout, which protobuf-go (and
// this encoder before) copied with unsafe. Sixteen at a time through
// array pointers, unrolled (the compiler does not unroll loops), so that
// there is one bounds check per sixteen floats: about 3 instructions a
// float.
func putFloats(b []byte, v []float32) {
	for len(v) >= 16 {
		d, s := (*[64]byte)(b), (*[16]float32)(v)
		binary.LittleEndian.PutUint32(d[0:], math.Float32bits(s[0]))
		binary.LittleEndian.PutUint32(d[4:], math.Float32bits(s[1]))
		binary.LittleEndian.PutUint32(d[8:], math.Float32bits(s[2]))
		binary.LittleEndian.PutUint32(d[12:], math.Float32bits(s[3]))
		binary.LittleEndian.PutUint32(d[16:], math.Float32bits(s[4]))
		binary.LittleEndian.PutUint32(d[20:], math.Float32bits(s[5]))
		binary.LittleEndian.PutUint32(d[24:], math.Float32bits(s[6]))
		binary.LittleEndian.PutUint32(d[28:], math.Float32bits(s[7]))
		binary.LittleEndian.PutUint32(d[32:], math.Float32bits(s[8]))
		binary.LittleEndian.PutUint32(d[36:], math.Float32bits(s[9]))
		binary.LittleEndian.PutUint32(d[40:], math.Float32bits(s[10]))
		binary.LittleEndian.PutUint32(d[44:], math.Float32bits(s[11]))
		binary.LittleEndian.PutUint32(d[48:], math.Float32bits(s[12]))
		binary.LittleEndian.PutUint32(d[52:], math.Float32bits(s[13]))
		binary.LittleEndian.PutUint32(d[56:], math.Float32bits(s[14]))
		binary.LittleEndian.PutUint32(d[60:], math.Float32bits(s[15]))
		b, v = b[64:], v[16:]
	}
	for j, f := range v {
		binary.LittleEndian.PutUint32(b[4*j:], math.Float32bits(f))
	}
}

// packedVarints writes a packed repeated varint field; nothing when empty.
// Signed values are sign-extended, as protobuf-go does for int32.
func packedVarints[T ~int32 | ~int64 | ~uint32 | ~uint64](w *revBuf, tag uint64, v []T) {
	if len(v) == 0 {
		return
	}
	mark := w.len()
	for _, x := range slices.Backward(v) {
		w.room(protowire.SizeVarint(uint64(x)))
		w.putVarint(uint64(x))
	}
	w.tagLen(tag, mark)
}

// Size helpers for wire_gen.go, given the size of the field's tag.

// sizeLen is the size of a length-delimited field with an n-byte body.
func sizeLen(tagSize, n int) int { return tagSize + protowire.SizeVarint(uint64(n)) + n }

// sizePackedFloats is the size of a packed float field.
func sizePackedFloats(tagSize int, v []float32) int {
	if len(v) == 0 {
		return 0
	}
	return sizeLen(tagSize, 4*len(v))
}

// sizePackedVarints is the size of a packed varint field.
func sizePackedVarints[T ~int32 | ~int64 | ~uint32 | ~uint64](tagSize int, v []T) int {
	if len(v) == 0 {
		return 0
	}
	n := 0
	for _, x := range v {
		n += protowire.SizeVarint(uint64(x))
	}
	return sizeLen(tagSize, n)
}
