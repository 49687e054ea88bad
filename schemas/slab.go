package schemas

import (
	"unsafe"

	"github.com/qdrant/go-client/qdrant"
)

// The decoder builds the protobuf messages of a record in boxes: one struct
// holding a message and the oneof wrappers it may point to, so an id or a
// vector costs one allocation instead of two or three. Boxes, vector data
// and payload bytes are carved from slabs (chunks shared by consecutive
// records) so that most records cost no allocation for them at all.
//
// Invariant: every box, float and byte is handed out exactly once, and
// slices are capped (s[i:j:j]), so records never share mutable memory. A chunk stays alive until every record carved from it is
// garbage; with in-order processing that bounds the overhead to about one
// chunk of each kind per Decoder.

const (
	vectorChunk = 16    // vectors per chunk
	idChunk     = 64    // point ids per chunk
	floatChunk  = 8192  // float32s (or uint32 sparse indices) per chunk (32 KiB)
	byteChunk   = 16384 // bytes of wire payloads per chunk
)

// slab hands out pointers to fresh zero Ts, allocating chunk of them at a
// time.
type slab[T any] []T

func (s *slab[T]) next(chunk int) *T {
	if len(*s) == 0 {
		*s = make([]T, chunk)
	}
	p := &(*s)[0]
	*s = (*s)[1:]
	return p
}

// vectorBox holds one vector (named, or the content of an unnamed one) in
// any of the shapes the decoder builds.
type vectorBox struct {
	v      qdrant.Vector
	dense  qdrant.Vector_Dense
	dv     qdrant.DenseVector
	sparse qdrant.Vector_Sparse
	sv     qdrant.SparseVector
	multi  qdrant.Vector_MultiDense
	mv     qdrant.MultiDenseVector
}

// denseBox holds a dense vector, the common case, in a third of a
// vectorBox.
type denseBox struct {
	v     qdrant.Vector
	dense qdrant.Vector_Dense
	dv    qdrant.DenseVector
}

// vectorsBox holds the Vectors of a record, unnamed or named.
type vectorsBox struct {
	vs    qdrant.Vectors
	one   qdrant.Vectors_Vector
	named qdrant.Vectors_Vectors
	nv    qdrant.NamedVectors
}

// idBox holds a point id and both of its kinds.
type idBox struct {
	id   qdrant.PointId
	num  qdrant.PointId_Num
	uuid qdrant.PointId_Uuid
}

// slabs are a Decoder's chunks.
type slabs struct {
	vectors slab[vectorBox]
	denses  slab[denseBox]
	vecs    slab[vectorsBox]
	ids     slab[idBox]
	floats  []float32
	uints   []uint32
	bytes   []byte
	// held estimates the bytes handed out since it was last zeroed: every
	// box, vector, string, map and list a record keeps (Record.MemBytes).
	held int
}

// Sizes of what a record holds, for slabs.held.
const (
	vectorBoxBytes  = int(unsafe.Sizeof(vectorBox{}))
	denseBoxBytes   = int(unsafe.Sizeof(denseBox{}))
	vectorsBoxBytes = int(unsafe.Sizeof(vectorsBox{}))
	idBoxBytes      = int(unsafe.Sizeof(idBox{}))
	denseBytes      = int(unsafe.Sizeof(qdrant.DenseVector{}))
	uuidTextBytes   = 36
)

// mapBytes estimates the heap size of a map of n string keys to pointers:
// Go's swiss tables hold groups of 8 slots (a 16-byte key, an 8-byte value)
// and a control word, at most 7/8 full, with a power-of-two capacity.
func mapBytes(n int) int {
	const header, slot = 48, 25
	c := 8
	for c*7/8 < n {
		c *= 2
	}
	return header + c*slot
}

// carve returns n fresh elements from *chunk, capped, refilling it with
// size new ones when it has too few; more than a quarter of size get their
// own allocation.
func carve[T any](chunk *[]T, n, size int) []T {
	if n > size/4 {
		return make([]T, n)
	}
	if len(*chunk) < n {
		*chunk = make([]T, size)
	}
	dst := (*chunk)[:n:n]
	*chunk = (*chunk)[n:]
	return dst
}

// floatsN returns n fresh float32s from the slab, to decode into.
func (s *slabs) floatsN(n int) []float32 {
	s.held += 4 * n
	return carve(&s.floats, n, floatChunk)
}

// floatsFor returns a fresh slice of len(src) holding a copy of src.
func (s *slabs) floatsFor(src []float32) []float32 {
	dst := s.floatsN(len(src))
	copy(dst, src)
	return dst
}

// uintsFor returns a fresh slice of len(src) holding a copy of src.
func (s *slabs) uintsFor(src []uint32) []uint32 {
	s.held += 4 * len(src)
	dst := carve(&s.uints, len(src), floatChunk)
	copy(dst, src)
	return dst
}

// bytesN returns n fresh bytes from the slab.
func (s *slabs) bytesN(n int) []byte {
	s.held += n
	return carve(&s.bytes, n, byteChunk)
}

// denseVector is qdrant.NewVectorDense(data).
func (s *slabs) denseVector(data []float32) *qdrant.Vector {
	s.held += denseBoxBytes
	b := s.denses.next(vectorChunk)
	b.dv.Data = data
	b.dense.Dense = &b.dv
	b.v.Vector = &b.dense
	return &b.v
}

// sparseVector is qdrant.NewVectorSparse(indices, values).
func (s *slabs) sparseVector(indices []uint32, values []float32) *qdrant.Vector {
	s.held += vectorBoxBytes
	b := s.vectors.next(vectorChunk)
	b.sv.Indices = indices
	b.sv.Values = values
	b.sparse.Sparse = &b.sv
	b.v.Vector = &b.sparse
	return &b.v
}

// multiVector is qdrant.NewVectorMulti over rows of dim floats in data.
func (s *slabs) multiVector(data []float32, dim int) *qdrant.Vector {
	n := len(data) / dim
	s.held += vectorBoxBytes + n*(denseBytes+8)
	b := s.vectors.next(vectorChunk)
	rows := make([]qdrant.DenseVector, n)
	ptrs := make([]*qdrant.DenseVector, n)
	for i := range rows {
		rows[i].Data = data[i*dim : (i+1)*dim : (i+1)*dim]
		ptrs[i] = &rows[i]
	}
	b.mv.Vectors = ptrs
	b.multi.MultiDense = &b.mv
	b.v.Vector = &b.multi
	return &b.v
}

// unnamed is qdrant.Vectors wrapping one unnamed vector (the shape of
// NewVectorsDense and NewVectorsMulti).
func (s *slabs) unnamed(v *qdrant.Vector) *qdrant.Vectors {
	s.held += vectorsBoxBytes
	b := s.vecs.next(vectorChunk)
	b.one.Vector = v
	b.vs.VectorsOptions = &b.one
	return &b.vs
}

// named is qdrant.NewVectorsMap(m).
func (s *slabs) named(m map[string]*qdrant.Vector) *qdrant.Vectors {
	s.held += vectorsBoxBytes + mapBytes(len(m))
	b := s.vecs.next(vectorChunk)
	b.nv.Vectors = m
	b.named.Vectors = &b.nv
	b.vs.VectorsOptions = &b.named
	return &b.vs
}

// numID is qdrant.NewIDNum(n).
func (s *slabs) numID(n uint64) *qdrant.PointId {
	s.held += idBoxBytes
	b := s.ids.next(idChunk)
	b.num.Num = n
	b.id.PointIdOptions = &b.num
	return &b.id
}

// textID is PointID(text), built in a box.
func textID[T string | []byte](s *slabs, text T) *qdrant.PointId {
	b := s.ids.next(idChunk)
	setPointID(&b.id, text, &b.num, &b.uuid)
	s.held += idBoxBytes
	if b.id.GetUuid() != "" {
		s.held += uuidTextBytes
	}
	return &b.id
}
