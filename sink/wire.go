package sink

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"slices"
	"unicode/utf8"
	"unsafe"

	"github.com/qdrant/go-client/qdrant"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
)

// This file and wire_request.go, wire_point.go hold a hand-written protobuf
// encoder for the one message the writer sends, qdrant.UpdateBatchPoints.
// protobuf-go's reflective encoder spends most of its time on the payload
// maps (map<string, Value>: a reflective map iteration and several
// allocations per entry); this one walks the generated structs directly
// and allocates nothing.
//
// It works in two passes over the request:
//
//  1. size*: the exact encoded size of every message, bottom-up, which is
//     also what proto.Size returns;
//  2. revBuf methods: the bytes, written back to front into a buffer of
//     exactly that size. Writing backwards means a message's body is
//     written before its length prefix, so no nested size is computed
//     twice and nothing is moved.
//
// The output is valid proto3 wire format that decodes (proto.Unmarshal)
// into a message proto.Equal to the input, with the same length as
// proto.Marshal's. Like proto.Marshal without Deterministic it does not
// promise one byte order for map entries. Fields are written in field
// number order, unknown fields last, as protobuf-go does.
//
// Every message and oneof case the writer can build is encoded here: see
// wire_request.go and wire_point.go for the list. A message the encoder
// does not fully cover (an operation other than upsert and the deletes, a
// FieldCondition with a match, geo, values_count or datetime_range
// condition, a Vector for cloud inference, a oneof case added by a newer
// go-client) is handed whole to protobuf-go (revBuf.fallback): slower,
// never wrong. TestWireCoversEveryField fails when the go-client grows a
// field in one of the covered messages, so an upgrade cannot silently drop
// data. Unknown fields are written back (wire_unknown.go).
//
// Like proto.Marshal, the encoder reports string fields (and map keys)
// that are not valid UTF-8 as an error. Like proto.Marshal, it must not
// run while another goroutine modifies the request: it may then fail with
// errWireChanged or panic.

// Wire types, for wireTag. Packed repeated floats are length-delimited
// (wireBytes) fields.
const (
	wireVarint  = uint64(protowire.VarintType)
	wireFixed64 = uint64(protowire.Fixed64Type)
	wireBytes   = uint64(protowire.BytesType)
)

// wireTag is the tag of field num with wire type typ.
func wireTag(num, typ uint64) uint64 { return num<<3 | typ }

// errWireChanged reports that the request changed between the size and the
// write pass (a data race in the caller).
var errWireChanged = errors.New("request changed while it was encoded")

// errInvalidUTF8 is wrapped by the encoder's error for a string field that
// is not valid UTF-8 (proto3 requires it; protobuf-go refuses it too).
var errInvalidUTF8 = errors.New("string field contains invalid UTF-8")

// appendUpdateBatch appends the protobuf encoding of req to dst. The result
// decodes into a message proto.Equal to req, and len(result)-len(dst) ==
// proto.Size(req). On error (a string field that is not valid UTF-8, or a
// failure of protobuf-go on a message it encodes for this one) it returns
// dst unchanged and an error that names the field.
//
// It allocates only to grow dst. req must not be modified concurrently.
func appendUpdateBatch(dst []byte, req *qdrant.UpdateBatchPoints) ([]byte, error) {
	n := sizeUpdateBatch(req)
	out := slices.Grow(dst, n)[:len(dst)+n]
	if err := writeUpdateBatch(out[len(dst):], req); err != nil {
		return dst, err
	}
	return out, nil
}

// writeUpdateBatch encodes req into b, which must be exactly
// sizeUpdateBatch(req) bytes long.
func writeUpdateBatch(b []byte, req *qdrant.UpdateBatchPoints) error {
	w := revBuf{b: b, i: len(b)}
	w.updateBatch(req)
	if w.err != nil {
		return fmt.Errorf("encoding UpdateBatchPoints: %w", w.err)
	}
	if w.i != 0 {
		return fmt.Errorf("encoding UpdateBatchPoints: %w", errWireChanged)
	}
	return nil
}

// revBuf is an output buffer filled from the end: b[i:] is written. The
// first error is kept in err and ends nothing: the buffer stays consistent
// and the caller checks err once at the end.
type revBuf struct {
	b   []byte
	i   int
	err error
}

// fail records err unless an earlier error is recorded.
func (w *revBuf) fail(err error) {
	if w.err == nil {
		w.err = err
	}
}

// varint writes v as a base-128 varint.
func (w *revBuf) varint(v uint64) {
	if v < 0x80 {
		w.i--
		w.b[w.i] = byte(v)
		return
	}
	w.varintLong(v)
}

// varintLong writes a varint of two bytes or more.
func (w *revBuf) varintLong(v uint64) {
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
// whose contents start at w.i and end at end.
func (w *revBuf) tagLen(tag uint64, end int) {
	n := uint64(end - w.i)
	if tag < 0x80 && n < 0x80 {
		// The common case: a one-byte tag and a body under 128 bytes.
		w.i -= 2
		b := w.b[w.i : w.i+2]
		b[0], b[1] = byte(tag), byte(n)
		return
	}
	w.varint(n)
	w.varint(tag)
}

// raw writes b as is (unknown fields).
func (w *revBuf) raw(b []byte) {
	w.i -= len(b)
	copy(w.b[w.i:], b)
}

// str writes string field tag. field names it in the UTF-8 error.
func (w *revBuf) str(tag uint64, s, field string) {
	if !utf8.ValidString(s) {
		w.fail(fmt.Errorf("%s: %w", field, errInvalidUTF8))
	}
	end := w.i
	w.i -= len(s)
	copy(w.b[w.i:], s)
	w.tagLen(tag, end)
}

// uvarintField writes a varint field.
func (w *revBuf) uvarintField(tag, v uint64) {
	w.varint(v)
	w.varint(tag)
}

// boolField writes a bool field.
func (w *revBuf) boolField(tag uint64, v bool) {
	w.i--
	w.b[w.i] = 0
	if v {
		w.b[w.i] = 1
	}
	w.varint(tag)
}

// doubleField writes a double (fixed64) field.
func (w *revBuf) doubleField(tag uint64, v float64) {
	w.i -= 8
	binary.LittleEndian.PutUint64(w.b[w.i:], math.Float64bits(v))
	w.varint(tag)
}

// packedFloats writes a packed repeated float field; nothing when empty.
func (w *revBuf) packedFloats(tag uint64, v []float32) {
	if len(v) == 0 {
		return
	}
	end := w.i
	w.i -= 4 * len(v)
	b := w.b[w.i:end]
	if nativeLittleEndian {
		// The wire format is the memory layout: IEEE 754 binary32,
		// little-endian, bit for bit (NaN payloads included).
		copy(b, unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(v))), len(b)))
	} else {
		for j, f := range v {
			binary.LittleEndian.PutUint32(b[4*j:], math.Float32bits(f))
		}
	}
	w.tagLen(tag, end)
}

// nativeLittleEndian reports whether this machine stores a float32 as the
// wire format does.
var nativeLittleEndian = binary.NativeEndian.Uint16([]byte{1, 0}) == 1

// packedUint32s writes a packed repeated uint32 field; nothing when empty.
func (w *revBuf) packedUint32s(tag uint64, v []uint32) {
	if len(v) == 0 {
		return
	}
	end := w.i
	for _, x := range slices.Backward(v) {
		w.varint(uint64(x))
	}
	w.tagLen(tag, end)
}

// fallback writes m with protobuf-go: the body only, like the other
// message writers. It must be paired with proto.Size(m) in the size pass.
func (w *revBuf) fallback(m proto.Message) {
	n := proto.Size(m)
	start := w.i - n
	if start < 0 {
		w.fail(errWireChanged)
		return
	}
	// proto.Size just cached the sizes MarshalAppend needs. Appending to a
	// zero-length slice with capacity n writes in place.
	out, err := proto.MarshalOptions{UseCachedSize: true}.MarshalAppend(w.b[start:start:w.i], m)
	if err != nil {
		w.fail(err)
		return
	}
	if len(out) != n || (n > 0 && &out[0] != &w.b[start]) {
		w.fail(errWireChanged)
		return
	}
	w.i = start
}

// Size helpers. They take the size of the field's tag where it varies:
// field numbers below 16 have one-byte tags, 16 to 2047 two-byte ones.

// sizeLen is the size of a length-delimited field with an n-byte body.
func sizeLen(tagSize, n int) int { return tagSize + protowire.SizeVarint(uint64(n)) + n }

// sizeVarintField is the size of a varint field (one-byte tag).
func sizeVarintField(v uint64) int { return 1 + protowire.SizeVarint(v) }

// sizePackedFloats is the size of a packed float field (one-byte tag).
func sizePackedFloats(v []float32) int {
	if len(v) == 0 {
		return 0
	}
	return sizeLen(1, 4*len(v))
}

// sizePackedUint32s is the size of a packed uint32 field (one-byte tag).
func sizePackedUint32s(v []uint32) int {
	if len(v) == 0 {
		return 0
	}
	n := 0
	for _, x := range v {
		n += protowire.SizeVarint(uint64(x))
	}
	return sizeLen(1, n)
}

// sizeFallback is the size of a message the encoder hands to protobuf-go;
// revBuf.fallback writes it.
func sizeFallback(m proto.Message) int { return proto.Size(m) }
