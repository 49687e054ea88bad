package qdrantmem

import (
	"bytes"
	"fmt"
	"slices"
	"testing"

	"github.com/qdrant/go-client/qdrant"
)

// clusterWithData is a 3-node cluster with collection "c": 3 shards (one
// per node) and 60 points.
func clusterWithData(t *testing.T) (*TestCluster, [][]byte) {
	t.Helper()
	tc := NewTestCluster(t, 3)
	e := &env{s: tc.Server, c: tc.Client}
	mustOK(t, tc.Client.CreateCollection(ctxT(t), &qdrant.CreateCollection{
		CollectionName: "c", ShardNumber: qdrant.PtrOf(uint32(3)),
		VectorsConfig: qdrant.NewVectorsConfig(&qdrant.VectorParams{Size: 2, Distance: qdrant.Distance_Dot}),
	}))
	for i := range 60 {
		e.upsert(t, "c", pt(uint64(i), []float32{float32(i), 1}, map[string]any{"i": i}))
	}
	var snaps [][]byte
	for i := range tc.Nodes {
		d := createSnapshot(t, tc.REST[i], "c")
		if want := fmt.Sprintf("c-%d-", tc.Nodes[i].PeerID()); d.Name[:len(want)] != want {
			t.Fatalf("node %d snapshot %s does not carry its peer id", i, d.Name)
		}
		snaps = append(snaps, download(t, tc.REST[i], "c", d.Name))
	}
	return tc, snaps
}

func shardCounts(t *testing.T, s *Server, coll string) []int {
	t.Helper()
	pts, err := s.Points(coll)
	mustOK(t, err)
	counts := make([]int, 3)
	s.mu.RLock()
	n := s.collections[coll].params.shardNumber
	s.mu.RUnlock()
	for _, p := range pts {
		k, _ := parsePointID(p.GetId())
		counts[shardOf(k, n)]++
	}
	return counts
}

func TestClusterSnapshotHoldsLocalShardsOnly(t *testing.T) {
	tc, snaps := clusterWithData(t)
	counts := shardCounts(t, tc.Server, "c")
	for i, data := range snaps {
		ps, err := readSnapshot(bytes.NewReader(data))
		mustOK(t, err)
		if len(ps.shards) != 1 || len(ps.shards[uint32(i)]) != counts[i] {
			t.Fatalf("node %d snapshot holds shards %v, want only shard %d with %d points", i, sortedShardIDs(ps.shards), i, counts[i])
		}
	}
	// The cluster info of each node reports its own shard as local.
	for i := range tc.Nodes {
		code, body, _ := restCall(t, "GET", tc.REST[i]+"/collections/c/cluster", "", nil)
		var info struct {
			PeerID      uint64 `json:"peer_id"`
			ShardCount  int    `json:"shard_count"`
			LocalShards []struct {
				ShardID     uint32 `json:"shard_id"`
				PointsCount int    `json:"points_count"`
				State       string `json:"state"`
			} `json:"local_shards"`
			RemoteShards []struct {
				ShardID uint32 `json:"shard_id"`
				PeerID  uint64 `json:"peer_id"`
			} `json:"remote_shards"`
		}
		result(t, body, &info)
		if code != 200 || info.PeerID != tc.Nodes[i].PeerID() || info.ShardCount != 3 || len(info.LocalShards) != 1 ||
			info.LocalShards[0].ShardID != uint32(i) || info.LocalShards[0].PointsCount != counts[i] || info.LocalShards[0].State != "Active" || len(info.RemoteShards) != 2 {
			t.Fatalf("node %d cluster info = %s", i, body)
		}
	}
}

// TestClusterRestore checks the facts seen on a real 3-node v1.18.3
// cluster: each node's snapshot uploaded to the same node restores every
// point; all three uploaded to one node restore every point with all
// shards on that node (priority snapshot); with priority replica the
// shards another node already held come back empty.
func TestClusterRestore(t *testing.T) {
	tc, snaps := clusterWithData(t)
	peers := func(coll string) [][]uint64 {
		p, err := tc.ShardPeers(coll)
		mustOK(t, err)
		return p
	}
	id := func(i int) uint64 { return tc.Nodes[i].PeerID() }

	for i, data := range snaps {
		if code, body := upload(t, tc.REST[i], "own", "?priority=snapshot", data); code != 200 {
			t.Fatalf("upload to node %d: %d %s", i, code, body)
		}
	}
	e := &env{s: tc.Server, c: tc.Client}
	if n := e.count(t, "own", nil); n != 60 {
		t.Fatalf("each snapshot to its own node restored %d points, want 60", n)
	}
	if got, want := peers("own"), [][]uint64{{id(0)}, {id(1)}, {id(2)}}; !equalPlacement(got, want) {
		t.Fatalf("placement %v, want %v", got, want)
	}

	for _, data := range snaps {
		if code, body := upload(t, tc.REST[0], "one", "?priority=snapshot", data); code != 200 {
			t.Fatalf("upload to node 0: %d %s", code, body)
		}
	}
	if n := e.count(t, "one", nil); n != 60 {
		t.Fatalf("all snapshots to node 0 restored %d points, want 60", n)
	}
	if got, want := peers("one"), [][]uint64{{id(0)}, {id(0)}, {id(0)}}; !equalPlacement(got, want) {
		t.Fatalf("placement %v, want every shard on node 0 %v", got, want)
	}

	for _, data := range snaps {
		if code, body := upload(t, tc.REST[0], "replica", "?priority=replica", data); code != 200 {
			t.Fatalf("upload to node 0: %d %s", code, body)
		}
	}
	counts := shardCounts(t, tc.Server, "c")
	if got := shardCounts(t, tc.Server, "replica"); !slices.Equal(got, []int{counts[0], 0, 0}) {
		t.Fatalf("priority replica left shard counts %v, want %v (only node 0's own shard)", got, []int{counts[0], 0, 0})
	}
	if got, want := peers("replica"), [][]uint64{{id(0)}, {id(0), id(1)}, {id(0), id(2)}}; !equalPlacement(got, want) {
		t.Fatalf("placement %v, want %v", got, want)
	}
}

func equalPlacement(a, b [][]uint64) bool {
	return slices.EqualFunc(a, b, func(x, y []uint64) bool { return slices.Equal(x, y) })
}
