package qdrantmem

import (
	"context"
	"fmt"
	"time"

	"github.com/qdrant/go-client/qdrant"
)

// Full gRPC method names of the Snapshots service.
const (
	MethodCreateSnapshot     = qdrant.Snapshots_Create_FullMethodName
	MethodListSnapshots      = qdrant.Snapshots_List_FullMethodName
	MethodDeleteSnapshot     = qdrant.Snapshots_Delete_FullMethodName
	MethodCreateFullSnapshot = qdrant.Snapshots_CreateFull_FullMethodName
	MethodListFullSnapshots  = qdrant.Snapshots_ListFull_FullMethodName
	MethodDeleteFullSnapshot = qdrant.Snapshots_DeleteFull_FullMethodName
)

// snapshotsService serves qdrant.Snapshots for one node, as
// src/tonic/api/snapshots_api.rs (v1.18.3) does: each call validates its
// request, then runs the same operation as the REST endpoint, always
// waiting for it. Download, upload and recovery are REST-only in Qdrant.
type snapshotsService struct {
	qdrant.UnimplementedSnapshotsServer
	n *node
}

// snapshotNameField is the gRPC validation `length(min = 1)` of snapshot_name.
func snapshotNameField(name string) *apiError {
	if name == "" {
		return bodyError(vfield{"snapshot_name", fmt.Sprintf("value %q invalid, must be at least 1 characters", name)})
	}
	return nil
}

func (ss *snapshotsService) Create(ctx context.Context, req *qdrant.CreateSnapshotRequest) (*qdrant.CreateSnapshotResponse, error) {
	return handle(ss.n.s, ctx, MethodCreateSnapshot, func(start time.Time) (*qdrant.CreateSnapshotResponse, error) {
		if err := validateCollectionName(req.GetCollectionName(), false); err != nil {
			return nil, err
		}
		d, err := ss.n.createCollectionSnapshot(req.GetCollectionName())
		if err != nil {
			return nil, err
		}
		return &qdrant.CreateSnapshotResponse{SnapshotDescription: d.proto(), Time: elapsed(start)}, nil
	})
}

func (ss *snapshotsService) List(ctx context.Context, req *qdrant.ListSnapshotsRequest) (*qdrant.ListSnapshotsResponse, error) {
	return handle(ss.n.s, ctx, MethodListSnapshots, func(start time.Time) (*qdrant.ListSnapshotsResponse, error) {
		if err := validateCollectionName(req.GetCollectionName(), false); err != nil {
			return nil, err
		}
		real, err := ss.n.s.realName(req.GetCollectionName())
		if err != nil {
			return nil, err
		}
		dir, err := ss.n.collectionDir(real)
		if err != nil {
			return nil, err
		}
		ds, err := listSnapshots(dir)
		if err != nil {
			return nil, err
		}
		return &qdrant.ListSnapshotsResponse{SnapshotDescriptions: protoDescriptions(ds), Time: elapsed(start)}, nil
	})
}

func (ss *snapshotsService) Delete(ctx context.Context, req *qdrant.DeleteSnapshotRequest) (*qdrant.DeleteSnapshotResponse, error) {
	return handle(ss.n.s, ctx, MethodDeleteSnapshot, func(start time.Time) (*qdrant.DeleteSnapshotResponse, error) {
		if err := validateCollectionName(req.GetCollectionName(), false); err != nil {
			return nil, err
		}
		if err := snapshotNameField(req.GetSnapshotName()); err != nil {
			return nil, err
		}
		if _, err := ss.n.deleteCollectionSnapshot(req.GetCollectionName(), req.GetSnapshotName()); err != nil {
			return nil, err
		}
		return &qdrant.DeleteSnapshotResponse{Time: elapsed(start)}, nil
	})
}

func (ss *snapshotsService) CreateFull(ctx context.Context, _ *qdrant.CreateFullSnapshotRequest) (*qdrant.CreateSnapshotResponse, error) {
	return handle(ss.n.s, ctx, MethodCreateFullSnapshot, func(start time.Time) (*qdrant.CreateSnapshotResponse, error) {
		d, err := ss.n.createFullSnapshot()
		if err != nil {
			return nil, err
		}
		return &qdrant.CreateSnapshotResponse{SnapshotDescription: d.proto(), Time: elapsed(start)}, nil
	})
}

func (ss *snapshotsService) ListFull(ctx context.Context, _ *qdrant.ListFullSnapshotsRequest) (*qdrant.ListSnapshotsResponse, error) {
	return handle(ss.n.s, ctx, MethodListFullSnapshots, func(start time.Time) (*qdrant.ListSnapshotsResponse, error) {
		dir, err := ss.n.snapshotsDir()
		if err != nil {
			return nil, ioError(err)
		}
		ds, aerr := listSnapshots(dir)
		if aerr != nil {
			return nil, aerr
		}
		return &qdrant.ListSnapshotsResponse{SnapshotDescriptions: protoDescriptions(ds), Time: elapsed(start)}, nil
	})
}

func (ss *snapshotsService) DeleteFull(ctx context.Context, req *qdrant.DeleteFullSnapshotRequest) (*qdrant.DeleteSnapshotResponse, error) {
	return handle(ss.n.s, ctx, MethodDeleteFullSnapshot, func(start time.Time) (*qdrant.DeleteSnapshotResponse, error) {
		if err := snapshotNameField(req.GetSnapshotName()); err != nil {
			return nil, err
		}
		if _, err := ss.n.deleteFullSnapshot(req.GetSnapshotName()); err != nil {
			return nil, err
		}
		return &qdrant.DeleteSnapshotResponse{Time: elapsed(start)}, nil
	})
}

func protoDescriptions(ds []snapshotDescription) []*qdrant.SnapshotDescription {
	out := make([]*qdrant.SnapshotDescription, len(ds))
	for i, d := range ds {
		out[i] = d.proto()
	}
	return out
}
