package qdrantmem

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/fnv"
	"net"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/qdrant/go-client/qdrant"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// Cluster is several Qdrant peers in one process: they share one Server's
// collections, points and aliases (what Qdrant's consensus and shard
// forwarding make every peer see), while each peer has its own peer id,
// snapshots directory and listeners, and holds only some of each
// collection's shards. A point belongs to shard hash(id) mod shard_number;
// a new collection places shard i on node i mod len(nodes) and, with
// replication_factor r, on the next r-1 nodes too. A collection snapshot
// taken on a node holds only the shards that node holds, and recovering one
// on a node moves the recovered shards to that node (see recoverFromFile),
// as a real v1.18.3 cluster does. Full-storage snapshots work per node.
//
// Fault injection (FailNext, SetLatency, Hang, SetUnavailable) and call
// counts are shared by every node.
type Cluster struct {
	*Server
	Nodes []*Node
}

// Node is one peer of a Cluster. Nodes[0] is the Cluster's Server itself
// (its Start and StartREST); the others have their own listeners.
type Node struct {
	n *node

	lifeMu  sync.Mutex
	grpcSrv *grpc.Server
	httpSrv *http.Server
}

// NewCluster returns a cluster of size nodes (at least 1) sharing one
// Server built with opts. With WithSnapshotsDir, node i keeps its
// snapshots in <dir>/node-<i>.
func NewCluster(size int, opts ...Option) *Cluster {
	s := New(opts...)
	cl := &Cluster{Server: s, Nodes: []*Node{{n: s.local()}}}
	for i := 1; i < size; i++ {
		n := newNode(s, i)
		s.snaps.nodes = append(s.snaps.nodes, n)
		cl.Nodes = append(cl.Nodes, &Node{n: n})
	}
	return cl
}

// PeerID is the node's peer id.
func (nd *Node) PeerID() uint64 { return nd.n.id }

// SnapshotsDir is the node's snapshots directory.
func (nd *Node) SnapshotsDir() (string, error) { return nd.n.snapshotsDir() }

// Start serves the node's gRPC API on addr: the shared Qdrant,
// Collections and Points services and the node's own Snapshots service.
func (nd *Node) Start(addr string) (string, error) {
	if nd.n.index == 0 {
		return nd.n.s.Start(addr)
	}
	nd.lifeMu.Lock()
	defer nd.lifeMu.Unlock()
	if nd.grpcSrv != nil {
		return "", errors.New("starting gRPC: already started")
	}
	lis, err := net.Listen("tcp", addr)
	if err != nil {
		return "", fmt.Errorf("starting gRPC: %w", err)
	}
	g := newGRPCServer()
	nd.n.register(g)
	nd.grpcSrv = g
	go func() { _ = g.Serve(lis) }()
	return lis.Addr().String(), nil
}

// StartREST serves the node's REST API on addr.
func (nd *Node) StartREST(addr string) (string, error) {
	if nd.n.index == 0 {
		return nd.n.s.StartREST(addr)
	}
	nd.lifeMu.Lock()
	defer nd.lifeMu.Unlock()
	if nd.httpSrv != nil {
		return "", errors.New("starting REST: already started")
	}
	lis, err := net.Listen("tcp", addr)
	if err != nil {
		return "", fmt.Errorf("starting REST: %w", err)
	}
	srv := &http.Server{Handler: nd.n.s.restHandler(nd.n)}
	nd.httpSrv = srv
	go func() { _ = srv.Serve(lis) }()
	return lis.Addr().String(), nil
}

// Stop stops every node's listeners (and the shared Server).
func (cl *Cluster) Stop() {
	for _, nd := range cl.Nodes[1:] {
		nd.lifeMu.Lock()
		if nd.grpcSrv != nil {
			nd.grpcSrv.Stop()
		}
		if nd.httpSrv != nil {
			_ = nd.httpSrv.Close()
		}
		nd.lifeMu.Unlock()
	}
	cl.Server.Stop()
}

// ShardPeers returns, for collection (or an alias), the peer ids holding
// each shard (index = shard id).
func (s *Server) ShardPeers(collection string) ([][]uint64, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	c, err := s.resolve(collection)
	if err != nil {
		return nil, err
	}
	place := s.placementOf(c)
	out := make([][]uint64, len(place))
	for i, p := range place {
		out[i] = slices.Clone(p)
	}
	return out, nil
}

// shardOf is the shard of point k among n shards. Qdrant routes ids with
// a consistent hash ring (HashRingRouter); a plain hash keeps the property
// the connector and backups depend on: a point lives in exactly one shard.
func shardOf(k pointKey, n uint32) uint32 {
	if n <= 1 {
		return 0
	}
	h := fnv.New64a()
	if k.isUUID {
		h.Write(k.uuid[:])
	} else {
		var b [8]byte
		binary.LittleEndian.PutUint64(b[:], k.num)
		h.Write(b[:])
	}
	return uint32(h.Sum64() % uint64(n))
}

func containsPeer(peers []uint64, id uint64) bool { return slices.Contains(peers, id) }

// placementOf is the placement of c (default when never changed). The
// caller holds s.mu; the result must not be modified.
func (s *Server) placementOf(c *collection) [][]uint64 {
	if p, ok := s.snaps.placement[c]; ok {
		return p
	}
	return s.defaultPlacement(c)
}

// ownPlacement returns c's placement for modification, storing a copy of
// the default on first use. The caller holds s.mu for writing.
func (s *Server) ownPlacement(c *collection) [][]uint64 {
	if p, ok := s.snaps.placement[c]; ok {
		return p
	}
	for k := range s.snaps.placement {
		if s.collections[k.name] != k {
			delete(s.snaps.placement, k) // a deleted collection's
		}
	}
	p := s.defaultPlacement(c)
	s.snaps.placement[c] = p
	return p
}

func (s *Server) defaultPlacement(c *collection) [][]uint64 {
	nodes := s.snaps.nodes
	rf := min(max(int(c.params.replicationFactor), 1), len(nodes))
	out := make([][]uint64, max(c.params.shardNumber, 1))
	for i := range out {
		for j := range rf {
			out[i] = append(out[i], nodes[(i+j)%len(nodes)].id)
		}
	}
	return out
}

func timestampOf(t time.Time) *timestamppb.Timestamp {
	if t.IsZero() {
		return nil
	}
	return timestamppb.New(t)
}

// register registers the gRPC services of node n on g: the Server's
// shared services and n's Snapshots service.
func (n *node) register(g *grpc.Server) {
	s := n.s
	qdrant.RegisterQdrantServer(g, &qdrantService{s: s})
	qdrant.RegisterCollectionsServer(g, &collectionsService{s: s})
	qdrant.RegisterPointsServer(g, &pointsService{s: s})
	qdrant.RegisterSnapshotsServer(g, &snapshotsService{n: n})
}

func init() { nodeRouteSets = append(nodeRouteSets, (*node).clusterRoutes) }

// RouteCollectionCluster is the route name of the collection cluster info.
const RouteCollectionCluster = "GET /collections/{collection_name}/cluster"

func (n *node) clusterRoutes() []restRoute {
	return []restRoute{{pattern: RouteCollectionCluster, handler: n.restCollectionCluster}}
}

type restLocalShard struct {
	ShardID     uint32 `json:"shard_id"`
	PointsCount int    `json:"points_count"`
	State       string `json:"state"`
}

type restRemoteShard struct {
	ShardID uint32 `json:"shard_id"`
	PeerID  uint64 `json:"peer_id"`
	State   string `json:"state"`
}

// restCollectionCluster is get_cluster_info (src/actix/api/collections_api.rs):
// CollectionClusterInfo (lib/collection/src/operations/types.rs) with this
// peer's shards as local and the others' as remote, all Active.
func (n *node) restCollectionCluster(w http.ResponseWriter, r *http.Request, start time.Time) {
	s := n.s
	s.mu.RLock()
	defer s.mu.RUnlock()
	c, err := s.resolve(r.PathValue("collection_name"))
	if err != nil {
		writeAPIError(w, start, err)
		return
	}
	place := s.placementOf(c)
	counts := make([]int, len(place))
	for k := range c.points {
		counts[shardOf(k, c.params.shardNumber)]++
	}
	local, remote := []restLocalShard{}, []restRemoteShard{}
	for sh, peers := range place {
		for _, p := range peers {
			if p == n.id {
				local = append(local, restLocalShard{ShardID: uint32(sh), PointsCount: counts[sh], State: "Active"})
			} else {
				remote = append(remote, restRemoteShard{ShardID: uint32(sh), PeerID: p, State: "Active"})
			}
		}
	}
	writeRESTResult(w, start, map[string]any{
		"peer_id":         n.id,
		"shard_count":     len(place),
		"local_shards":    local,
		"remote_shards":   remote,
		"shard_transfers": []any{},
	})
}
