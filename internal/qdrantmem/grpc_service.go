package qdrantmem

import (
	"context"
	"time"

	"github.com/qdrant/go-client/qdrant"
)

// Full gRPC method names, as FailNext, SetLatency, Hang and CallCount take them.
const (
	MethodHealthCheck           = qdrant.Qdrant_HealthCheck_FullMethodName
	MethodCollectionsGet        = qdrant.Collections_Get_FullMethodName
	MethodCollectionsList       = qdrant.Collections_List_FullMethodName
	MethodCollectionsCreate     = qdrant.Collections_Create_FullMethodName
	MethodCollectionsUpdate     = qdrant.Collections_Update_FullMethodName
	MethodCollectionsDelete     = qdrant.Collections_Delete_FullMethodName
	MethodCollectionExists      = qdrant.Collections_CollectionExists_FullMethodName
	MethodUpdateAliases         = qdrant.Collections_UpdateAliases_FullMethodName
	MethodListCollectionAliases = qdrant.Collections_ListCollectionAliases_FullMethodName
	MethodListAliases           = qdrant.Collections_ListAliases_FullMethodName
	MethodUpsert                = qdrant.Points_Upsert_FullMethodName
	MethodDelete                = qdrant.Points_Delete_FullMethodName
	MethodGet                   = qdrant.Points_Get_FullMethodName
	MethodCount                 = qdrant.Points_Count_FullMethodName
	MethodScroll                = qdrant.Points_Scroll_FullMethodName
	MethodSearch                = qdrant.Points_Search_FullMethodName
	MethodQuery                 = qdrant.Points_Query_FullMethodName
	MethodUpdateBatch           = qdrant.Points_UpdateBatch_FullMethodName
	MethodCreateFieldIndex      = qdrant.Points_CreateFieldIndex_FullMethodName
	MethodDeleteFieldIndex      = qdrant.Points_DeleteFieldIndex_FullMethodName
)

// handle runs the fault and auth pipeline, then h. Handlers return *apiError
// values only after checking them against nil, so no typed nil escapes as a
// non-nil error.
func handle[Resp any](s *Server, ctx context.Context, method string, h func(start time.Time) (Resp, error)) (Resp, error) {
	start := time.Now()
	if err := s.admit(ctx, method, method == MethodHealthCheck, grpcHeader(ctx)); err != nil {
		var zero Resp
		return zero, err
	}
	return h(start)
}

func elapsed(start time.Time) float64 { return time.Since(start).Seconds() }

// qdrantService serves qdrant.Qdrant.
type qdrantService struct {
	qdrant.UnimplementedQdrantServer
	s *Server
}

// HealthCheck answers VersionInfo::default() (lib/api/src/rest/models.rs):
// title "qdrant - vector search engine" and the version. It needs no API key,
// as in src/tonic/auth.rs.
func (q *qdrantService) HealthCheck(ctx context.Context, _ *qdrant.HealthCheckRequest) (*qdrant.HealthCheckReply, error) {
	return handle(q.s, ctx, MethodHealthCheck, func(time.Time) (*qdrant.HealthCheckReply, error) {
		return &qdrant.HealthCheckReply{Title: versionTitle, Version: q.s.opts.version}, nil
	})
}

const versionTitle = "qdrant - vector search engine"
