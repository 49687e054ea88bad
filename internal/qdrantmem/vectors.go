package qdrantmem

import (
	"fmt"
	"math"

	"github.com/qdrant/go-client/qdrant"
)

// vecKind is the shape of one stored vector.
type vecKind uint8

const (
	vecDense vecKind = iota
	vecMulti
	vecSparse
)

// vec is one vector of a point. Its slices are never modified after the vec
// is stored, so responses may share them.
type vec struct {
	kind   vecKind
	dense  []float32   // vecDense
	multi  [][]float32 // vecMulti
	idx    []uint32    // vecSparse indices
	values []float32   // vecSparse values
}

// namedVec is a vector and its name; "" is the unnamed (default) vector.
type namedVec struct {
	name string
	v    vec
}

// pointVectors is the vectors of one point as the request gave them.
type pointVectors struct {
	// named is true for VectorStruct::Named (a map of names), false for a
	// single unnamed dense or multi-dense vector (stored under "").
	named bool
	vecs  []namedVec // sorted by name when named
}

// elements is the number of float elements a dense or multi vector stores.
func (v vec) elements() int {
	switch v.kind {
	case vecDense:
		return len(v.dense)
	case vecMulti:
		n := 0
		for _, r := range v.multi {
			n += len(r)
		}
		return n
	default:
		return 0
	}
}

// convertVectors converts a gRPC Vectors as `impl TryFrom<grpc::Vectors> for
// rest::VectorStruct` does (lib/api/src/conversions/vectors.rs, v1.18.3),
// including the deprecated data/indices/vectors_count encoding.
func convertVectors(vs *qdrant.Vectors) (pointVectors, *apiError) {
	if vs == nil {
		return pointVectors{}, invalidArgument("Expected some vectors")
	}
	switch o := vs.GetVectorsOptions().(type) {
	case *qdrant.Vectors_Vector:
		v, err := convertVector(o.Vector, false)
		if err != nil {
			return pointVectors{}, err
		}
		return pointVectors{vecs: []namedVec{{name: "", v: v}}}, nil
	case *qdrant.Vectors_Vectors:
		m := o.Vectors.GetVectors()
		pv := pointVectors{named: true, vecs: make([]namedVec, 0, len(m))}
		for _, name := range sortedKeys(m) {
			v, err := convertVector(m[name], true)
			if err != nil {
				return pointVectors{}, err
			}
			pv.vecs = append(pv.vecs, namedVec{name: name, v: v})
		}
		return pv, nil
	default:
		return pointVectors{}, invalidArgument("No Vector Provided")
	}
}

func convertVector(v *qdrant.Vector, named bool) (vec, *apiError) {
	switch x := v.GetVector().(type) {
	case *qdrant.Vector_Dense:
		return vec{kind: vecDense, dense: x.Dense.GetData()}, nil
	case *qdrant.Vector_Sparse:
		if !named {
			return vec{}, invalidArgument("Sparse vector must be named")
		}
		return vec{kind: vecSparse, idx: x.Sparse.GetIndices(), values: x.Sparse.GetValues()}, nil
	case *qdrant.Vector_MultiDense:
		rows := make([][]float32, len(x.MultiDense.GetVectors()))
		for i, r := range x.MultiDense.GetVectors() {
			rows[i] = r.GetData()
		}
		return vec{kind: vecMulti, multi: rows}, nil
	case *qdrant.Vector_Document, *qdrant.Vector_Image, *qdrant.Vector_Object:
		return vec{}, unsupported("inference objects (document, image, object) are not supported")
	}
	// Deprecated encoding: data + indices (sparse) or data + vectors_count (multi).
	//nolint:staticcheck // Qdrant still accepts the deprecated fields.
	data, indices, count := v.GetData(), v.GetIndices(), v.VectorsCount
	if indices != nil {
		if !named {
			return vec{}, invalidArgument("Sparse vector must be named")
		}
		return vec{kind: vecSparse, idx: indices.GetData(), values: data}, nil
	}
	if count != nil {
		rows, err := plainMultiVector(data, int(*count))
		if err != nil {
			return vec{}, invalidArgument("Unable to convert to multi-dense vector: %s", err)
		}
		return vec{kind: vecMulti, multi: rows}, nil
	}
	return vec{kind: vecDense, dense: data}, nil
}

// plainMultiVector is convert_to_plain_multi_vector (lib/api/src/conversions/vectors.rs);
// its error is OperationError::validation_error, displayed "Validation failed: {description}".
func plainMultiVector(data []float32, count int) ([][]float32, error) {
	if count <= 0 {
		return nil, fmt.Errorf("vectors count must be greater than 0")
	}
	dim := len(data) / count
	if dim*count != len(data) {
		//lint:ignore ST1005 Qdrant's own text
		return nil, fmt.Errorf("Validation failed: Data length is not divisible by vectors count. Data length: %d, vectors count: %d", len(data), count)
	}
	rows := make([][]float32, count)
	for i := range rows {
		rows[i] = data[i*dim : (i+1)*dim]
	}
	return rows, nil
}

// normalized returns v scaled to unit length, as Qdrant preprocesses vectors
// of a Cosine collection on insert (CosineMetric::preprocess). A zero vector
// is returned unchanged.
func normalized(v []float32) []float32 {
	var sum float64
	for _, x := range v {
		sum += float64(x) * float64(x)
	}
	if sum == 0 {
		return v
	}
	n := float32(math.Sqrt(sum))
	out := make([]float32, len(v))
	for i, x := range v {
		out[i] = x / n
	}
	return out
}

// outputVector renders a stored vector as `impl From<VectorInternal> for
// grpc::VectorOutput` does: only the `vector` oneof is set.
func outputVector(v vec) *qdrant.VectorOutput {
	switch v.kind {
	case vecSparse:
		return &qdrant.VectorOutput{Vector: &qdrant.VectorOutput_Sparse{Sparse: &qdrant.SparseVector{Indices: v.idx, Values: v.values}}}
	case vecMulti:
		rows := make([]*qdrant.DenseVector, len(v.multi))
		for i, r := range v.multi {
			rows[i] = &qdrant.DenseVector{Data: r}
		}
		return &qdrant.VectorOutput{Vector: &qdrant.VectorOutput_MultiDense{MultiDense: &qdrant.MultiDenseVector{Vectors: rows}}}
	default:
		return &qdrant.VectorOutput{Vector: &qdrant.VectorOutput_Dense{Dense: &qdrant.DenseVector{Data: v.dense}}}
	}
}
