package qdrantmem

import (
	"fmt"
	"slices"
	"testing"

	"github.com/qdrant/go-client/qdrant"
	"google.golang.org/grpc/codes"
)

func ids(pts []*qdrant.RetrievedPoint) []string {
	out := make([]string, len(pts))
	for i, p := range pts {
		out[i] = idString(p.GetId())
	}
	return out
}

func idString(id *qdrant.PointId) string {
	if u := id.GetUuid(); u != "" {
		return u
	}
	return fmt.Sprint(id.GetNum())
}

func TestUpsertGetRoundTrip(t *testing.T) {
	e := newEnv(t)
	ctx := ctxT(t)
	e.createDense(t, "c", 3, qdrant.Distance_Cosine)
	const u = "f0e09527-b096-42a8-94e9-ea94d342b885"
	res, err := e.c.Upsert(ctx, &qdrant.UpsertPoints{CollectionName: "c", Wait: qdrant.PtrOf(true), Points: []*qdrant.PointStruct{
		pt(7, []float32{3, 0, 4}, map[string]any{"title": "Alien", "year": 1979, "tags": []any{"a", "b"}}),
		{Id: qdrant.NewIDUUID("{F0E09527-B096-42A8-94E9-EA94D342B885}"), Vectors: qdrant.NewVectors(0, 1, 0)},
	}})
	mustOK(t, err)
	if res.GetStatus() != qdrant.UpdateStatus_Completed || res.GetOperationId() != 0 {
		t.Fatalf("result = %v, want Completed operation 0", res)
	}
	got, err := e.c.Get(ctx, &qdrant.GetPoints{CollectionName: "c",
		Ids:         []*qdrant.PointId{qdrant.NewIDUUID(u), qdrant.NewIDNum(7), qdrant.NewIDNum(8), qdrant.NewIDNum(7)},
		WithPayload: qdrant.NewWithPayload(true), WithVectors: qdrant.NewWithVectors(true)})
	mustOK(t, err)
	if fmt.Sprint(ids(got)) != "["+u+" 7]" {
		t.Fatalf("Get ids = %v, want [%s 7] (request order, missing and repeated ids dropped)", ids(got), u)
	}
	p := got[1]
	// Cosine vectors are stored normalised, as Qdrant stores them.
	if v := p.GetVectors().GetVector().GetDense().GetData(); !slices.Equal(v, []float32{0.6, 0, 0.8}) {
		t.Errorf("vector = %v, want [0.6 0 0.8]", v)
	}
	if p.GetPayload()["year"].GetIntegerValue() != 1979 || p.GetPayload()["title"].GetStringValue() != "Alien" {
		t.Errorf("payload = %v", p.GetPayload())
	}
	// Defaults: Get sends no payload and no vectors.
	got, err = e.c.Get(ctx, &qdrant.GetPoints{CollectionName: "c", Ids: []*qdrant.PointId{qdrant.NewIDNum(7)}})
	mustOK(t, err)
	if got[0].GetPayload() != nil || got[0].GetVectors() != nil {
		t.Errorf("Get without selectors = %v, want no payload and no vectors", got[0])
	}
	// Server.Points is keyed n:/u: and holds everything.
	all, err := e.s.Points("c")
	mustOK(t, err)
	if len(all) != 2 || all["n:7"] == nil || all["u:"+u] == nil {
		t.Fatalf("Points keys = %v", keysOf(all))
	}
	if all["n:7"].GetPayload()["tags"].GetListValue().GetValues()[1].GetStringValue() != "b" {
		t.Errorf("Points payload = %v", all["n:7"].GetPayload())
	}
	// An upsert replaces the whole point; an empty payload clears it.
	e.upsert(t, "c", pt(7, []float32{1, 0, 0}, nil))
	all, _ = e.s.Points("c")
	if len(all["n:7"].GetPayload()) != 0 {
		t.Errorf("payload after upsert without payload = %v, want none", all["n:7"].GetPayload())
	}
	_, err = e.s.Points("nope")
	wantStatus(t, err, codes.NotFound, "Not found: Collection `nope` doesn't exist!")
}

func keysOf[V any](m map[string]V) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

func TestPayloadAndVectorSelectors(t *testing.T) {
	e := newEnv(t)
	e.createNamed(t, "c", map[string]uint64{"a": 2, "b": 2}, "s")
	e.upsert(t, "c", &qdrant.PointStruct{Id: qdrant.NewIDNum(1),
		Vectors: named(map[string]*qdrant.Vector{"a": qdrant.NewVector(1, 2), "b": qdrant.NewVector(3, 4), "s": qdrant.NewVectorSparse([]uint32{5}, []float32{0.5})}),
		Payload: qdrant.NewValueMap(map[string]any{"x": 1, "y": map[string]any{"p": 1, "q": 2}, "z": 3})})
	tests := []struct {
		name        string
		wp          *qdrant.WithPayloadSelector
		wv          *qdrant.WithVectorsSelector
		wantPayload string
		wantVectors []string
	}{
		{"include", qdrant.NewWithPayloadInclude("x", "y.q"), qdrant.NewWithVectorsInclude("b"), "x y.q", []string{"b"}},
		{"exclude", qdrant.NewWithPayloadExclude("y.p", "z"), qdrant.NewWithVectorsInclude("s", "a"), "x y.q", []string{"a", "s"}},
		{"all", qdrant.NewWithPayload(true), qdrant.NewWithVectors(true), "x y.p y.q z", []string{"a", "b", "s"}},
		{"none named", qdrant.NewWithPayload(false), qdrant.NewWithVectorsInclude("nope"), "", []string{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := e.c.Get(ctxT(t), &qdrant.GetPoints{CollectionName: "c", Ids: []*qdrant.PointId{qdrant.NewIDNum(1)}, WithPayload: tc.wp, WithVectors: tc.wv})
			mustOK(t, err)
			if got := flatKeys(got[0].GetPayload(), ""); got != tc.wantPayload {
				t.Errorf("payload keys = %q, want %q", got, tc.wantPayload)
			}
			nv := got[0].GetVectors().GetVectors()
			if nv == nil {
				t.Fatalf("vectors = %v, want a named map", got[0].GetVectors())
			}
			if g := keysOf(nv.GetVectors()); !slices.Equal(append([]string{}, g...), tc.wantVectors) {
				t.Errorf("vector names = %v, want %v", g, tc.wantVectors)
			}
		})
	}
}

func flatKeys(m map[string]*qdrant.Value, prefix string) string {
	var out []string
	for _, k := range keysOf(m) {
		if s := m[k].GetStructValue(); s != nil {
			if sub := flatKeys(s.GetFields(), prefix+k+"."); sub != "" {
				out = append(out, sub)
			}
			continue
		}
		out = append(out, prefix+k)
	}
	return joinSpace(out)
}

func joinSpace(xs []string) string {
	s := ""
	for i, x := range xs {
		if i > 0 {
			s += " "
		}
		s += x
	}
	return s
}

func TestScrollOrderAndPaging(t *testing.T) {
	e := newEnv(t)
	ctx := ctxT(t)
	e.createDense(t, "c", 1, qdrant.Distance_Dot)
	u1, u2 := "00000000-0000-0000-0000-000000000001", "ffffffff-0000-0000-0000-000000000000"
	e.upsert(t, "c",
		&qdrant.PointStruct{Id: qdrant.NewIDUUID(u2), Vectors: qdrant.NewVectors(1)},
		pt(30, []float32{1}, map[string]any{"k": "b"}),
		pt(2, []float32{1}, map[string]any{"k": "a"}),
		&qdrant.PointStruct{Id: qdrant.NewIDUUID(u1), Vectors: qdrant.NewVectors(1)},
		pt(10, []float32{1}, map[string]any{"k": "a"}),
	)
	tests := []struct {
		name     string
		req      *qdrant.ScrollPoints
		want     string
		wantNext string
	}{
		{"numbers then uuids", &qdrant.ScrollPoints{}, "[2 10 30 " + u1 + " " + u2 + "]", ""},
		{"limit", &qdrant.ScrollPoints{Limit: qdrant.PtrOf(uint32(2))}, "[2 10]", "30"},
		{"offset between ids", &qdrant.ScrollPoints{Offset: qdrant.NewIDNum(11), Limit: qdrant.PtrOf(uint32(2))}, "[30 " + u1 + "]", u2},
		{"offset is inclusive", &qdrant.ScrollPoints{Offset: qdrant.NewIDNum(10), Limit: qdrant.PtrOf(uint32(1))}, "[10]", "30"},
		{"filter", &qdrant.ScrollPoints{Filter: &qdrant.Filter{Must: []*qdrant.Condition{qdrant.NewMatch("k", "a")}}}, "[2 10]", ""},
		{"filter and limit", &qdrant.ScrollPoints{Filter: &qdrant.Filter{Must: []*qdrant.Condition{qdrant.NewMatch("k", "a")}}, Limit: qdrant.PtrOf(uint32(1))}, "[2]", "10"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.req.CollectionName = "c"
			got, next, err := e.c.ScrollAndOffset(ctx, tc.req)
			mustOK(t, err)
			if fmt.Sprint(ids(got)) != tc.want {
				t.Errorf("ids = %v, want %v", ids(got), tc.want)
			}
			gotNext := ""
			if next != nil {
				gotNext = idString(next)
			}
			if gotNext != tc.wantNext {
				t.Errorf("next = %q, want %q", gotNext, tc.wantNext)
			}
		})
	}
	// Scroll sends payload by default.
	got, err := e.c.Scroll(ctx, &qdrant.ScrollPoints{CollectionName: "c", Limit: qdrant.PtrOf(uint32(1))})
	mustOK(t, err)
	if got[0].GetPayload()["k"].GetStringValue() != "a" {
		t.Errorf("default scroll payload = %v, want k=a", got[0].GetPayload())
	}
	_, err = e.c.Scroll(ctx, &qdrant.ScrollPoints{CollectionName: "c", Limit: qdrant.PtrOf(uint32(0))})
	wantStatus(t, err, codes.InvalidArgument, "Validation error in body: [limit: value 0 invalid, must be 1 or larger]")
	_, err = e.c.Scroll(ctx, &qdrant.ScrollPoints{CollectionName: "x"})
	wantStatus(t, err, codes.NotFound, "Not found: Collection `x` doesn't exist!")
}

func TestDeleteAndCount(t *testing.T) {
	e := newEnv(t)
	ctx := ctxT(t)
	e.createDense(t, "c", 1, qdrant.Distance_Dot)
	for i := uint64(1); i <= 6; i++ {
		e.upsert(t, "c", pt(i, []float32{1}, map[string]any{"even": i%2 == 0}))
	}
	if n := e.count(t, "c", &qdrant.Filter{Must: []*qdrant.Condition{qdrant.NewMatchBool("even", true)}}); n != 3 {
		t.Fatalf("count even = %d, want 3", n)
	}
	_, err := e.c.Delete(ctx, &qdrant.DeletePoints{CollectionName: "c", Wait: qdrant.PtrOf(true),
		Points: qdrant.NewPointsSelector(qdrant.NewIDNum(1), qdrant.NewIDNum(99))})
	mustOK(t, err)
	_, err = e.c.Delete(ctx, &qdrant.DeletePoints{CollectionName: "c", Wait: qdrant.PtrOf(true),
		Points: qdrant.NewPointsSelectorFilter(&qdrant.Filter{Must: []*qdrant.Condition{qdrant.NewHasID(qdrant.NewIDNum(2), qdrant.NewIDNum(3))}})})
	mustOK(t, err)
	_, err = e.c.Delete(ctx, &qdrant.DeletePoints{CollectionName: "c", Wait: qdrant.PtrOf(true),
		Points: qdrant.NewPointsSelectorFilter(&qdrant.Filter{Must: []*qdrant.Condition{qdrant.NewMatchBool("even", true)}, MustNot: []*qdrant.Condition{qdrant.NewHasID(qdrant.NewIDNum(6))}})})
	mustOK(t, err)
	all, _ := e.s.Points("c")
	if got := keysOf(all); fmt.Sprint(got) != "[n:5 n:6]" {
		t.Fatalf("points left = %v, want [n:5 n:6]", got)
	}
	for _, tc := range []struct {
		name string
		req  *qdrant.DeletePoints
		code codes.Code
		msg  string
	}{
		{"no selector", &qdrant.DeletePoints{CollectionName: "c"}, codes.InvalidArgument, "PointSelector is missing"},
		{"empty selector", &qdrant.DeletePoints{CollectionName: "c", Points: &qdrant.PointsSelector{}}, codes.InvalidArgument, "Malformed PointsSelector type"},
		{"missing collection", &qdrant.DeletePoints{CollectionName: "x", Points: qdrant.NewPointsSelector(qdrant.NewIDNum(1))}, codes.NotFound, "Not found: Collection `x` doesn't exist!"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := e.c.Delete(ctx, tc.req)
			wantStatus(t, err, tc.code, tc.msg)
		})
	}
	_, err = e.c.Count(ctx, &qdrant.CountPoints{CollectionName: "x"})
	wantStatus(t, err, codes.NotFound, "Not found: Collection `x` doesn't exist!")
}

// TestUpdateBatch: operations apply in order; the first failing operation
// ends the call and the ones before it stay applied, as in Qdrant's
// update_batch (src/tonic/api/update_common.rs).
func TestUpdateBatch(t *testing.T) {
	upsertOp := func(pts ...*qdrant.PointStruct) *qdrant.PointsUpdateOperation {
		return qdrant.NewPointsUpdateUpsert(&qdrant.PointsUpdateOperation_PointStructList{Points: pts})
	}
	deleteOp := func(id uint64) *qdrant.PointsUpdateOperation {
		return qdrant.NewPointsUpdateDeletePoints(&qdrant.PointsUpdateOperation_DeletePoints{Points: qdrant.NewPointsSelector(qdrant.NewIDNum(id))})
	}
	v := []float32{1, 2}
	tests := []struct {
		name       string
		ops        []*qdrant.PointsUpdateOperation
		code       codes.Code
		msg        string
		wantPoints string
		wantOps    int
	}{
		{name: "in order", ops: []*qdrant.PointsUpdateOperation{upsertOp(pt(1, v, nil), pt(2, v, nil)), deleteOp(1), upsertOp(pt(1, v, nil), pt(3, v, nil)), deleteOp(2)},
			wantPoints: "[n:1 n:3]", wantOps: 4},
		{name: "later failure keeps earlier operations", ops: []*qdrant.PointsUpdateOperation{upsertOp(pt(1, v, nil)), deleteOp(9), upsertOp(pt(2, v, nil), pt(3, []float32{1}, nil)), upsertOp(pt(4, v, nil))},
			code: codes.InvalidArgument, msg: "Wrong input: Vector dimension error: expected dim: 2, got 1", wantPoints: "[n:1]"},
		{name: "missing operation", ops: []*qdrant.PointsUpdateOperation{upsertOp(pt(1, v, nil)), {}},
			code: codes.InvalidArgument, msg: "Operation is missing", wantPoints: "[n:1]"},
		{name: "empty", ops: nil,
			code: codes.InvalidArgument, msg: "Validation error in body: [operations: value [] invalid, must be at least 1 characters]", wantPoints: "[]"},
		{name: "duplicate ids in one upsert: last wins", ops: []*qdrant.PointsUpdateOperation{upsertOp(pt(1, v, map[string]any{"n": 1}), pt(1, v, map[string]any{"n": 2}))},
			wantPoints: "[n:1]", wantOps: 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			e.createDense(t, "c", 2, qdrant.Distance_Dot)
			res, err := e.c.UpdateBatch(ctxT(t), &qdrant.UpdateBatchPoints{CollectionName: "c", Wait: qdrant.PtrOf(true), Operations: tc.ops})
			if tc.msg != "" {
				wantStatus(t, err, tc.code, tc.msg)
			} else {
				mustOK(t, err)
				if len(res) != tc.wantOps {
					t.Fatalf("results = %d, want %d", len(res), tc.wantOps)
				}
				for i, r := range res {
					if r.GetOperationId() != uint64(i) || r.GetStatus() != qdrant.UpdateStatus_Completed {
						t.Errorf("result %d = %v, want operation_id %d Completed", i, r, i)
					}
				}
			}
			all, _ := e.s.Points("c")
			if got := fmt.Sprint(keysOf(all)); got != tc.wantPoints {
				t.Errorf("points = %v, want %v", got, tc.wantPoints)
			}
			if tc.name == "duplicate ids in one upsert: last wins" && all["n:1"].GetPayload()["n"].GetIntegerValue() != 2 {
				t.Errorf("payload = %v, want n=2", all["n:1"].GetPayload())
			}
		})
	}
}

func TestUpdateBatchUnknownCollection(t *testing.T) {
	e := newEnv(t)
	_, err := e.c.UpdateBatch(ctxT(t), &qdrant.UpdateBatchPoints{CollectionName: "nope", Operations: []*qdrant.PointsUpdateOperation{
		qdrant.NewPointsUpdateDeletePoints(&qdrant.PointsUpdateOperation_DeletePoints{Points: qdrant.NewPointsSelector(qdrant.NewIDNum(1))})}})
	wantStatus(t, err, codes.NotFound, "Not found: Collection `nope` doesn't exist!")
}

// TestConcurrentAccess runs writers and readers together; with -race it
// checks the locking, and the final count checks no write was lost.
func TestConcurrentAccess(t *testing.T) {
	e := newEnv(t)
	e.createDense(t, "c", 2, qdrant.Distance_Cosine)
	const writers, perWriter = 4, 25
	errs := make(chan error, writers+2)
	done := make(chan struct{})
	for w := range writers {
		go func() {
			for i := range perWriter {
				id := uint64(w*perWriter + i)
				_, err := e.c.UpdateBatch(ctxT(t), &qdrant.UpdateBatchPoints{CollectionName: "c", Wait: qdrant.PtrOf(true), Operations: []*qdrant.PointsUpdateOperation{
					qdrant.NewPointsUpdateUpsert(&qdrant.PointsUpdateOperation_PointStructList{Points: []*qdrant.PointStruct{pt(id, []float32{1, float32(i)}, map[string]any{"w": w})}})}})
				if err != nil {
					errs <- err
					return
				}
			}
			errs <- nil
		}()
	}
	readers := func(f func() error) {
		go func() {
			for {
				select {
				case <-done:
					errs <- nil
					return
				default:
				}
				if err := f(); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	readers(func() error {
		_, err := e.c.Scroll(ctxT(t), &qdrant.ScrollPoints{CollectionName: "c", WithVectors: qdrant.NewWithVectors(true)})
		return err
	})
	readers(func() error {
		if _, err := e.c.GetCollectionInfo(ctxT(t), "c"); err != nil {
			return err
		}
		_, err := e.s.Points("c")
		return err
	})
	for range writers {
		mustOK(t, <-errs)
	}
	close(done)
	mustOK(t, <-errs)
	mustOK(t, <-errs)
	if n := e.count(t, "c", nil); n != writers*perWriter {
		t.Fatalf("count = %d, want %d", n, writers*perWriter)
	}
}
