package qdrantmem

import (
	"fmt"
	"math"
	"strings"

	"github.com/qdrant/go-client/qdrant"
)

// Point validation happens in the layers Qdrant v1.18.3 runs, in its order:
//
//  1. gRPC request validation, only for the Upsert RPC (`validate(request)`
//     in src/tonic/api/points_api.rs); UpdateBatch validates only its
//     collection_name and operations count, not the nested points:
//     "Validation error in body: [...]" (grpcPointFields).
//  2. Conversion to the REST form (`impl TryFrom<grpc::PointStruct>`,
//     lib/api/src/grpc/conversions.rs), per point: payload, vectors, id, with
//     bare texts such as "cannot convert to json number" or
//     "Expected some vectors" (convertPoints).
//  3. REST-form validation in do_upsert_points (src/common/update.rs):
//     "Wrong input: points[0].vector.vector: dense vector must not be empty"
//     (restPointErrors).
//  4. Collection lookup: "Not found: Collection `x` doesn't exist!".
//  5. The early dimension check before the WAL
//     (src/common/validate_vectors.rs): unnamed vectors
//     "Vector dimension error: expected dim: 4, got 3", named ones with
//     " for vector 'name'" (collection.checkDims).
//  6. The segment check when the operation is applied
//     (lib/segment/src/common/mod.rs, check_named_vectors): unknown names,
//     sparse/dense and multi/dense mix-ups (collection.checkSegment). Real
//     Qdrant reports these only with wait=true and applies the points of
//     the operation before the bad one; this server reports them the same
//     way but applies none of the operation's points (see doc.go).

// inPoint is a converted point of an upsert.
type inPoint struct {
	key     pointKey
	vecs    pointVectors
	payload map[string]*qdrant.Value
}

// convertPoints is layer 2.
func convertPoints(points []*qdrant.PointStruct) ([]inPoint, *apiError) {
	out := make([]inPoint, len(points))
	for i, p := range points {
		for _, v := range p.GetPayload() {
			if err := checkPayloadValue(v); err != nil {
				return nil, err
			}
		}
		vecs, err := convertVectors(p.GetVectors())
		if err != nil {
			return nil, err
		}
		if p.GetId() == nil {
			return nil, invalidArgument("Empty ID is not allowed")
		}
		key, err := parsePointID(p.GetId())
		if err != nil {
			return nil, err
		}
		payload := p.GetPayload()
		if len(payload) == 0 {
			// "empty payload means None in PointStruct": the point's payload is cleared.
			payload = nil
		}
		out[i] = inPoint{key: key, vecs: vecs, payload: payload}
	}
	return out, nil
}

// checkPayloadValue is proto_to_json (lib/api/src/conversions/json.rs): a
// NaN or infinite double has no JSON form.
func checkPayloadValue(v *qdrant.Value) *apiError {
	switch k := v.GetKind().(type) {
	case *qdrant.Value_DoubleValue:
		if math.IsNaN(k.DoubleValue) || math.IsInf(k.DoubleValue, 0) {
			return invalidArgument("cannot convert to json number")
		}
	case *qdrant.Value_StructValue:
		for _, e := range k.StructValue.GetFields() {
			if err := checkPayloadValue(e); err != nil {
				return err
			}
		}
	case *qdrant.Value_ListValue:
		for _, e := range k.ListValue.GetValues() {
			if err := checkPayloadValue(e); err != nil {
				return err
			}
		}
	}
	return nil
}

// sparseFields is validate_sparse_vector_impl (lib/sparse/src/common/sparse_vector.rs).
func sparseFields(indices []uint32, values []float32) []vfield {
	var out []vfield
	if len(indices) != len(values) {
		out = append(out, vfield{"values", codeOnly("must be the same length as indices")})
	}
	seen := make(map[uint32]struct{}, len(indices))
	for _, i := range indices {
		if _, dup := seen[i]; dup {
			out = append(out, vfield{"indices", codeOnly("must be unique")})
			break
		}
		seen[i] = struct{}{}
	}
	return out
}

// multiProblem is validate_multi_vector_by_length
// (lib/common/common/src/validation.rs): its error code and message.
func multiProblem(rows [][]float32) (code, msg string, bad bool) {
	if len(rows) == 0 {
		return "empty_multi_vector", "multi vector must not be empty", true
	}
	for _, r := range rows {
		if len(r) == 0 {
			return "empty_vector", "all vectors must be non-empty", true
		}
	}
	dim := len(rows[0])
	for _, r := range rows {
		if len(r) != dim {
			return "inconsistent_multi_vector", fmt.Sprintf("all vectors must have the same dimension, found vector with dimension %d", len(r)), true
		}
	}
	return "", "", false
}

// grpcVectorFields is `impl Validate for grpc::Vector`
// (lib/api/src/grpc/validate.rs), rendered by describe_error.
func grpcVectorFields(v *qdrant.Vector) []vfield {
	switch x := v.GetVector().(type) {
	case *qdrant.Vector_Sparse:
		return sparseFields(x.Sparse.GetIndices(), x.Sparse.GetValues())
	case *qdrant.Vector_MultiDense:
		rows := make([][]float32, len(x.MultiDense.GetVectors()))
		for i, r := range x.MultiDense.GetVectors() {
			rows[i] = r.GetData()
		}
		if _, msg, bad := multiProblem(rows); bad {
			return []vfield{{"data", msg}}
		}
		return nil
	case nil:
	default:
		return nil
	}
	//nolint:staticcheck // Qdrant still validates the deprecated fields.
	indices, count, data := v.GetIndices(), v.VectorsCount, v.GetData()
	switch {
	case indices != nil && count != nil:
		return []vfield{{"indices", codeOnly("`indices` and `vectors_count` cannot be both specified")}}
	case indices != nil:
		return sparseFields(indices.GetData(), data)
	case count != nil && *count == 0:
		return []vfield{{"data", `Validation error: invalid_vector_count [{"vectors_count": String("vectors count must be greater than 0")}]`}}
	}
	return nil
}

// grpcPointFields is layer 1 for UpsertPoints.points.
func grpcPointFields(points []*qdrant.PointStruct) []vfield {
	var out []vfield
	for i, p := range points {
		base := fmt.Sprintf("points[%d].vectors.vectors_options", i)
		switch o := p.GetVectors().GetVectorsOptions().(type) {
		case *qdrant.Vectors_Vector:
			for _, f := range grpcVectorFields(o.Vector) {
				out = append(out, vfield{base + "." + f.path, f.msg})
			}
		case *qdrant.Vectors_Vectors:
			// ValidateExt for HashMap reports the first bad entry under "[]".
			m := o.Vectors.GetVectors()
			for _, name := range sortedKeys(m) {
				if fs := grpcVectorFields(m[name]); len(fs) > 0 {
					for _, f := range fs {
						out = append(out, vfield{base + ".vectors.[]." + f.path, f.msg})
					}
					break
				}
			}
		}
	}
	return out
}

// restVectorFields is `impl Validate for rest::Vector` / VectorStruct
// (lib/api/src/rest/schema.rs), rendered by validator's Display.
func restVectorFields(v vec) []vfield {
	switch v.kind {
	case vecDense:
		if len(v.dense) == 0 {
			return []vfield{{"vector", "dense vector must not be empty"}}
		}
	case vecMulti:
		if code, msg, bad := multiProblem(v.multi); bad {
			return []vfield{{"data", messageParam(code, msg)}}
		}
	case vecSparse:
		return sparseFields(v.idx, v.values)
	}
	return nil
}

// restPointErrors is layer 3: nil, or the Display of the ValidationErrors of
// the points list. Display writes list items and struct fields back to back
// with no separator (validator/src/display_impl.rs), so several problems
// come out concatenated, as they do from Qdrant.
func restPointErrors(points []inPoint) *apiError {
	var b strings.Builder
	for i, p := range points {
		if !p.vecs.named {
			for _, f := range restVectorFields(p.vecs.vecs[0].v) {
				fmt.Fprintf(&b, "points[%d].vector.%s: %s", i, f.path, f.msg)
			}
			continue
		}
		// validate_iter (lib/common/common/src/validation.rs): one failing
		// vector is reported under "?", several under "?[j]".
		var bad [][]vfield
		for _, nv := range p.vecs.vecs {
			if fs := restVectorFields(nv.v); len(fs) > 0 {
				bad = append(bad, fs)
			}
		}
		for j, fs := range bad {
			prefix := fmt.Sprintf("points[%d].vector.?", i)
			if len(bad) > 1 {
				prefix = fmt.Sprintf("points[%d].vector.?[%d]", i, j)
			}
			for _, f := range fs {
				fmt.Fprintf(&b, "%s.%s: %s", prefix, f.path, f.msg)
			}
		}
	}
	if b.Len() == 0 {
		return nil
	}
	return badInput("%s", b.String())
}

// checkDims is layer 5 (validate_point_vectors, src/common/validate_vectors.rs).
func (c *collection) checkDims(points []inPoint) *apiError {
	for _, p := range points {
		if !p.vecs.named {
			d, ok := c.schema.dense[""]
			if !ok {
				continue
			}
			v := p.vecs.vecs[0].v
			if v.kind == vecDense && len(v.dense) != d.size {
				return errWrongDim(d.size, len(v.dense))
			}
			if v.kind == vecMulti {
				for _, r := range v.multi {
					if len(r) != d.size {
						return errWrongDim(d.size, len(r))
					}
				}
			}
			continue
		}
		for _, nv := range p.vecs.vecs {
			d, ok := c.schema.dense[nv.name]
			if !ok {
				continue
			}
			switch nv.v.kind {
			case vecDense:
				if len(nv.v.dense) != d.size {
					return errWrongDimNamed(d.size, len(nv.v.dense), nv.name)
				}
			case vecMulti:
				for _, r := range nv.v.multi {
					if len(r) != d.size {
						return errWrongDimNamed(d.size, len(r), nv.name)
					}
				}
			}
		}
	}
	return nil
}

// checkSegment is layer 6 (check_vector / check_vector_against_config /
// check_sparse_vector_against_config, lib/segment/src/common/mod.rs).
func (c *collection) checkSegment(points []inPoint) *apiError {
	for _, p := range points {
		for _, nv := range p.vecs.vecs {
			if d, ok := c.schema.dense[nv.name]; ok {
				switch {
				case nv.v.kind == vecSparse:
					return errWrongSparse()
				case nv.v.kind == vecMulti && !d.multi:
					return errWrongMulti()
				}
				continue
			}
			if _, ok := c.schema.sparse[nv.name]; ok {
				switch nv.v.kind {
				case vecDense:
					return errWrongSparse()
				case vecMulti:
					return errWrongMulti()
				}
				continue
			}
			return errVectorNameNotExists(nv.name)
		}
	}
	return nil
}
