package qdrantmem

import (
	"bytes"
	"strconv"

	"github.com/google/uuid"
	"github.com/qdrant/go-client/qdrant"
)

// pointKey is a point id as Qdrant's ExtendedPointId: a number or a UUID.
// Keys order as Qdrant orders ids (derived Ord of the enum): every numeric id
// before every UUID, numbers ascending, UUIDs by their 16 bytes.
type pointKey struct {
	isUUID bool
	num    uint64
	uuid   uuid.UUID
}

// String is the inspection key used by Server.Points: "n:42" or "u:<uuid>".
func (k pointKey) String() string {
	if k.isUUID {
		return "u:" + k.uuid.String()
	}
	return "n:" + strconv.FormatUint(k.num, 10)
}

func (k pointKey) less(o pointKey) bool {
	if k.isUUID != o.isUUID {
		return !k.isUUID
	}
	if !k.isUUID {
		return k.num < o.num
	}
	return bytes.Compare(k.uuid[:], o.uuid[:]) < 0
}

func (k pointKey) proto() *qdrant.PointId {
	if k.isUUID {
		return qdrant.NewIDUUID(k.uuid.String())
	}
	return qdrant.NewIDNum(k.num)
}

// parsePointID converts a gRPC PointId as `impl TryFrom<PointId> for
// PointIdType` does (lib/api/src/grpc/conversions.rs, v1.18.3). UUIDs are
// normalised, so "{A0...}" and "a0..." name the same point.
func parsePointID(id *qdrant.PointId) (pointKey, *apiError) {
	switch v := id.GetPointIdOptions().(type) {
	case *qdrant.PointId_Num:
		return pointKey{num: v.Num}, nil
	case *qdrant.PointId_Uuid:
		u, err := uuid.Parse(v.Uuid)
		if err != nil {
			return pointKey{}, invalidArgument("Unable to parse UUID: %s", v.Uuid)
		}
		return pointKey{isUUID: true, uuid: u}, nil
	default:
		return pointKey{}, invalidArgument("No ID options provided")
	}
}

func parsePointIDs(ids []*qdrant.PointId) ([]pointKey, *apiError) {
	keys := make([]pointKey, 0, len(ids))
	for _, id := range ids {
		k, err := parsePointID(id)
		if err != nil {
			return nil, err
		}
		keys = append(keys, k)
	}
	return keys, nil
}
