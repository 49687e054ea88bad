package qdrantmem

import (
	"testing"

	"github.com/qdrant/go-client/qdrant"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/proto"
)

// strictColl creates collection c (dim 1) with strict mode sm (enabled).
func (e *env) strictColl(t testing.TB, sm *qdrant.StrictModeConfig) {
	t.Helper()
	sm.Enabled = proto.Bool(true)
	mustOK(t, e.c.CreateCollection(ctxT(t), &qdrant.CreateCollection{
		CollectionName:   "c",
		VectorsConfig:    qdrant.NewVectorsConfig(&qdrant.VectorParams{Size: 1, Distance: qdrant.Distance_Dot}),
		StrictModeConfig: sm,
	}))
}

func points(n int) []*qdrant.PointStruct {
	out := make([]*qdrant.PointStruct, n)
	for i := range out {
		out[i] = pt(uint64(i+1), []float32{1}, map[string]any{"k": i})
	}
	return out
}

// fencedDelete is the connector's fenced delete filter: has_id AND
// (_kq_offset <= off OR _kq_offset is empty).
func fencedDelete(id uint64, off float64) *qdrant.PointsSelector {
	return qdrant.NewPointsSelectorFilter(&qdrant.Filter{
		Must: []*qdrant.Condition{qdrant.NewHasID(qdrant.NewIDNum(id))},
		Should: []*qdrant.Condition{
			qdrant.NewRange("_kq_offset", &qdrant.Range{Lte: &off}),
			qdrant.NewIsEmpty("_kq_offset"),
		},
	})
}

// The texts below are Qdrant v1.18.3's (see strict.go for the sources):
// StorageError::BadRequest "Bad request: " + CollectionError::strict_mode's
// "{error}. Help: {solution}".
func TestStrictModeUpsertLimit(t *testing.T) {
	e := newEnv(t)
	e.strictColl(t, &qdrant.StrictModeConfig{UpsertMaxBatchsize: proto.Uint64(10)})
	const msg = `Bad request: Limit exceeded 11 > 10 for "upsert limit". Help: Reduce the "upsert limit" parameter to or below 10.`

	_, err := e.c.Upsert(ctxT(t), &qdrant.UpsertPoints{CollectionName: "c", Wait: proto.Bool(true), Points: points(11)})
	wantStatus(t, err, codes.InvalidArgument, msg)
	_, err = e.c.Upsert(ctxT(t), &qdrant.UpsertPoints{CollectionName: "c", Wait: proto.Bool(true), Points: points(10)})
	mustOK(t, err)

	// UpdateBatch checks each operation on its own: two upserts of 10 pass,
	// one of 11 fails after the operations before it were applied.
	up := func(pts []*qdrant.PointStruct) *qdrant.PointsUpdateOperation {
		return qdrant.NewPointsUpdateUpsert(&qdrant.PointsUpdateOperation_PointStructList{Points: pts})
	}
	pts := points(31)
	_, err = e.c.GetPointsClient().UpdateBatch(ctxT(t), &qdrant.UpdateBatchPoints{CollectionName: "c", Wait: proto.Bool(true),
		Operations: []*qdrant.PointsUpdateOperation{up(pts[:10]), up(pts[10:20])}})
	mustOK(t, err)
	_, err = e.c.GetPointsClient().UpdateBatch(ctxT(t), &qdrant.UpdateBatchPoints{CollectionName: "c", Wait: proto.Bool(true),
		Operations: []*qdrant.PointsUpdateOperation{up(pts[20:30]), up(append(pts[:10:10], pts[30]))}})
	wantStatus(t, err, codes.InvalidArgument, msg)
	if n := e.count(t, "c", nil); n != 30 {
		t.Fatalf("count = %d, want 30 (the operation before the failing one stays applied)", n)
	}
}

func TestStrictModeTimeout(t *testing.T) {
	e := newEnv(t)
	e.strictColl(t, &qdrant.StrictModeConfig{MaxTimeout: proto.Uint32(10)})
	_, err := e.c.GetPointsClient().UpdateBatch(ctxT(t), &qdrant.UpdateBatchPoints{CollectionName: "c", Wait: proto.Bool(true), Timeout: proto.Uint64(30),
		Operations: []*qdrant.PointsUpdateOperation{qdrant.NewPointsUpdateUpsert(&qdrant.PointsUpdateOperation_PointStructList{Points: points(1)})}})
	wantStatus(t, err, codes.InvalidArgument, `Bad request: Limit exceeded 30 > 10 for "timeout". Help: Reduce the "timeout" parameter to or below 10.`)
	_, err = e.c.Delete(ctxT(t), &qdrant.DeletePoints{CollectionName: "c", Wait: proto.Bool(true), Timeout: proto.Uint64(11),
		Points: qdrant.NewPointsSelector(qdrant.NewIDNum(1))})
	wantStatus(t, err, codes.InvalidArgument, `Bad request: Limit exceeded 11 > 10 for "timeout". Help: Reduce the "timeout" parameter to or below 10.`)
	_, err = e.c.Upsert(ctxT(t), &qdrant.UpsertPoints{CollectionName: "c", Wait: proto.Bool(true), Timeout: proto.Uint64(10), Points: points(1)})
	mustOK(t, err)
}

func TestStrictModeMaxPointsCount(t *testing.T) {
	e := newEnv(t)
	e.strictColl(t, &qdrant.StrictModeConfig{MaxPointsCount: proto.Uint64(3)})
	e.upsert(t, "c", points(3)...)
	_, err := e.c.Upsert(ctxT(t), &qdrant.UpsertPoints{CollectionName: "c", Wait: proto.Bool(true), Points: points(1)})
	wantStatus(t, err, codes.InvalidArgument, "Bad request: Max points count limit of 3 reached!")
	// Deletes still pass; below the limit upserts do again.
	_, err = e.c.Delete(ctxT(t), &qdrant.DeletePoints{CollectionName: "c", Wait: proto.Bool(true), Points: qdrant.NewPointsSelector(qdrant.NewIDNum(3))})
	mustOK(t, err)
	e.upsert(t, "c", points(3)...)
}

// A delete by filter on an unindexed key is refused under
// unindexed_filtering_update=false; an integer index on the key lifts it.
// Conditional upserts (update_filter) are never checked.
func TestStrictModeUnindexedFilterOnDelete(t *testing.T) {
	e := newEnv(t)
	e.strictColl(t, &qdrant.StrictModeConfig{UnindexedFilteringUpdate: proto.Bool(false)})
	off := 5.0
	_, err := e.c.Upsert(ctxT(t), &qdrant.UpsertPoints{CollectionName: "c", Wait: proto.Bool(true), Points: []*qdrant.PointStruct{
		pt(1, []float32{1}, map[string]any{"_kq_offset": 5}),
	}, UpdateFilter: &qdrant.Filter{Should: []*qdrant.Condition{qdrant.NewRange("_kq_offset", &qdrant.Range{Lte: &off})}}})
	mustOK(t, err)

	del := func() error {
		_, err := e.c.Delete(ctxT(t), &qdrant.DeletePoints{CollectionName: "c", Wait: proto.Bool(true), Points: fencedDelete(1, 6)})
		return err
	}
	wantStatus(t, del(), codes.InvalidArgument,
		`Bad request: Index required but not found for "_kq_offset" of one of the following types: [float, integer]. Help: Create an index for this key or use a different filter.`)
	// is_empty alone accepts any index type.
	_, err = e.c.Delete(ctxT(t), &qdrant.DeletePoints{CollectionName: "c", Wait: proto.Bool(true),
		Points: qdrant.NewPointsSelectorFilter(&qdrant.Filter{Must: []*qdrant.Condition{qdrant.NewIsEmpty("other")}})})
	wantStatus(t, err, codes.InvalidArgument,
		`Bad request: Index required but not found for "other" of one of the following types: [bool, datetime, float, geo, integer, keyword, text, text (with phrase_matching: true), uuid]. Help: Create an index for this key or use a different filter.`)
	// A keyword index does not serve a range.
	_, err = e.c.CreateFieldIndex(ctxT(t), &qdrant.CreateFieldIndexCollection{CollectionName: "c", FieldName: "_kq_offset",
		FieldType: qdrant.FieldType_FieldTypeKeyword.Enum(), Wait: proto.Bool(true)})
	mustOK(t, err)
	wantStatus(t, del(), codes.InvalidArgument,
		`Bad request: Index required but not found for "_kq_offset" of one of the following types: [float, integer]. Help: Create an index for this key or use a different filter.`)

	_, err = e.c.CreateFieldIndex(ctxT(t), &qdrant.CreateFieldIndexCollection{CollectionName: "c", FieldName: "_kq_offset",
		FieldType: qdrant.FieldType_FieldTypeInteger.Enum(), Wait: proto.Bool(true)})
	mustOK(t, err)
	mustOK(t, del())
	if n := e.count(t, "c", nil); n != 0 {
		t.Fatalf("count = %d after the fenced delete, want 0", n)
	}
	info, err := e.c.GetCollectionInfo(ctxT(t), "c")
	mustOK(t, err)
	if got := info.GetPayloadSchema()["_kq_offset"].GetDataType(); got != qdrant.PayloadSchemaType_Integer {
		t.Fatalf("payload_schema[_kq_offset] = %v, want Integer", got)
	}
}

func TestStrictModeFilterMaxConditions(t *testing.T) {
	e := newEnv(t)
	e.strictColl(t, &qdrant.StrictModeConfig{FilterMaxConditions: proto.Uint64(2)})
	_, err := e.c.Delete(ctxT(t), &qdrant.DeletePoints{CollectionName: "c", Wait: proto.Bool(true), Points: fencedDelete(1, 6)})
	wantStatus(t, err, codes.InvalidArgument,
		"Bad request: Filter condition limit reached (3 > 2). Help: Reduce the amount of conditions of your filter.")
}

// Strict mode off (or enabled: false) checks nothing; an update merges
// into the stored config, as update_strict_mode_config does.
func TestStrictModeDisabledAndMerged(t *testing.T) {
	e := newEnv(t)
	e.strictColl(t, &qdrant.StrictModeConfig{UpsertMaxBatchsize: proto.Uint64(1)})
	mustOK(t, e.c.UpdateCollection(ctxT(t), &qdrant.UpdateCollection{CollectionName: "c",
		StrictModeConfig: &qdrant.StrictModeConfig{Enabled: proto.Bool(false)}}))
	e.upsert(t, "c", points(5)...)
	mustOK(t, e.c.UpdateCollection(ctxT(t), &qdrant.UpdateCollection{CollectionName: "c",
		StrictModeConfig: &qdrant.StrictModeConfig{Enabled: proto.Bool(true)}}))
	info, err := e.c.GetCollectionInfo(ctxT(t), "c")
	mustOK(t, err)
	if got := info.GetConfig().GetStrictModeConfig().GetUpsertMaxBatchsize(); got != 1 {
		t.Fatalf("upsert_max_batchsize after a merge = %d, want 1", got)
	}
	_, err = e.c.Upsert(ctxT(t), &qdrant.UpsertPoints{CollectionName: "c", Wait: proto.Bool(true), Points: points(2)})
	wantStatus(t, err, codes.InvalidArgument, `Bad request: Limit exceeded 2 > 1 for "upsert limit". Help: Reduce the "upsert limit" parameter to or below 1.`)
}

func TestCreateFieldIndexNeedsType(t *testing.T) {
	e := newEnv(t)
	e.createDense(t, "c", 1, qdrant.Distance_Dot)
	_, err := e.c.CreateFieldIndex(ctxT(t), &qdrant.CreateFieldIndexCollection{CollectionName: "c", FieldName: "k", Wait: proto.Bool(true)})
	wantStatus(t, err, codes.InvalidArgument, "Bad request: Can't auto-detect field type, please specify `field_schema` in the request")
	_, err = e.c.CreateFieldIndex(ctxT(t), &qdrant.CreateFieldIndexCollection{CollectionName: "nope", FieldName: "k",
		FieldType: qdrant.FieldType_FieldTypeInteger.Enum()})
	wantStatus(t, err, codes.NotFound, "Not found: Collection `nope` doesn't exist!")
}

func TestWithVersion(t *testing.T) {
	e := newEnv(t, WithVersion("1.15.3"))
	r, err := e.c.HealthCheck(ctxT(t))
	mustOK(t, err)
	if r.GetVersion() != "1.15.3" {
		t.Fatalf("version = %q", r.GetVersion())
	}
}
