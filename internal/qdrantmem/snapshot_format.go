package qdrantmem

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"

	"github.com/qdrant/go-client/qdrant"
	"google.golang.org/protobuf/proto"
)

// A Qdrant snapshot is a tar of the collection directory (config, one
// directory per shard with its segments and WAL); only Qdrant reads it back.
// This server writes its own container instead, with the same role: the
// collection's configuration, then the points of each shard the node holds
// locally. It is a stream of frames after an 8-byte magic:
//
//	"QMEMSNP1"
//	frame := kind (1 byte) | length (uvarint) | payload (length bytes)
//	meta   {"collection", "peer_id", "created"} (JSON), once, first
//	config qdrant.CollectionConfig (protobuf), once
//	index  payload indexes {"key": field type} (JSON), once (Qdrant's
//	       payload index schema file, lib/shard/src/files.rs)
//	shard  shard id (uvarint) | point count (uvarint); then that many points
//	point  qdrant.RetrievedPoint (protobuf): id, payload, stored vectors
//	end    total point count (uvarint), last; a file without it is truncated
//
// Vectors are written as stored (Cosine vectors already normalised), so a
// restore reproduces the collection bit for bit. The file is written and
// read as a stream: its size is bounded by the disk, not by memory.
const snapshotMagic = "QMEMSNP1"

const (
	frameMeta byte = iota + 1
	frameConfig
	frameShard
	framePoint
	frameEnd
	frameIndex
)

// maxFrameBytes bounds one frame, so a corrupt length cannot make the
// reader allocate gigabytes. A point is at most Qdrant's 32 MiB request.
const maxFrameBytes = 64 << 20

// snapshotMeta is the meta frame.
type snapshotMeta struct {
	Collection string `json:"collection"`
	PeerID     uint64 `json:"peer_id"`
	Created    string `json:"created"`
}

// snapshotShard is one shard of a snapshot cut: its id and its points.
type snapshotShard struct {
	id     uint32
	points []*point
}

// snapshotWriter writes the container to w.
type snapshotWriter struct {
	w   *bufio.Writer
	buf []byte
	n   uint64
}

func newSnapshotWriter(w io.Writer) *snapshotWriter {
	return &snapshotWriter{w: bufio.NewWriterSize(w, 1<<20)}
}

func (sw *snapshotWriter) frame(kind byte, payload []byte) error {
	var hdr [1 + binary.MaxVarintLen64]byte
	hdr[0] = kind
	n := binary.PutUvarint(hdr[1:], uint64(len(payload)))
	if _, err := sw.w.Write(hdr[:1+n]); err != nil {
		return err
	}
	_, err := sw.w.Write(payload)
	return err
}

// writeSnapshot writes a whole snapshot: meta, config, the shards in order
// and the end frame. Points are shared with the store (immutable) and only
// read.
func writeSnapshot(w io.Writer, meta snapshotMeta, cfg *qdrant.CollectionConfig, index map[string]qdrant.FieldType, shards []snapshotShard) error {
	sw := newSnapshotWriter(w)
	if _, err := sw.w.WriteString(snapshotMagic); err != nil {
		return err
	}
	mb, err := json.Marshal(meta)
	if err != nil {
		return err
	}
	if err := sw.frame(frameMeta, mb); err != nil {
		return err
	}
	cb, err := proto.Marshal(cfg)
	if err != nil {
		return err
	}
	if err := sw.frame(frameConfig, cb); err != nil {
		return err
	}
	ib, err := json.Marshal(index)
	if err != nil {
		return err
	}
	if err := sw.frame(frameIndex, ib); err != nil {
		return err
	}
	for _, sh := range shards {
		hdr := binary.AppendUvarint(nil, uint64(sh.id))
		hdr = binary.AppendUvarint(hdr, uint64(len(sh.points)))
		if err := sw.frame(frameShard, hdr); err != nil {
			return err
		}
		for _, p := range sh.points {
			if err := sw.point(p); err != nil {
				return err
			}
		}
	}
	if err := sw.frame(frameEnd, binary.AppendUvarint(nil, sw.n)); err != nil {
		return err
	}
	return sw.w.Flush()
}

func (sw *snapshotWriter) point(p *point) error {
	rp := &qdrant.RetrievedPoint{Id: p.key.proto(), Payload: p.payload, Vectors: storedVectorsOutput(p)}
	b, err := proto.MarshalOptions{}.MarshalAppend(sw.buf[:0], rp)
	if err != nil {
		return err
	}
	sw.buf = b
	sw.n++
	return sw.frame(framePoint, b)
}

// storedVectorsOutput renders every stored vector of p: the unnamed one as
// a single vector, others as a map.
func storedVectorsOutput(p *point) *qdrant.VectorsOutput {
	if len(p.vecs) == 1 && p.vecs[0].name == "" {
		return &qdrant.VectorsOutput{VectorsOptions: &qdrant.VectorsOutput_Vector{Vector: outputVector(p.vecs[0].v)}}
	}
	m := make(map[string]*qdrant.VectorOutput, len(p.vecs))
	for _, nv := range p.vecs {
		m[nv.name] = outputVector(nv.v)
	}
	return &qdrant.VectorsOutput{VectorsOptions: &qdrant.VectorsOutput_Vectors{Vectors: &qdrant.NamedVectorsOutput{Vectors: m}}}
}

// parsedSnapshot is a snapshot read back: what recovery applies.
type parsedSnapshot struct {
	meta   snapshotMeta
	config *qdrant.CollectionConfig
	index  map[string]qdrant.FieldType
	shards map[uint32][]*point
}

// errSnapshotFormat marks a file that is not a well-formed snapshot.
var errSnapshotFormat = errors.New("not a qdrantmem snapshot")

// readSnapshot reads a whole snapshot from r. Any deviation from the
// format (bad magic, frames out of order, a count that does not match,
// trailing bytes, a missing end frame) is an error wrapping
// errSnapshotFormat.
func readSnapshot(r io.Reader) (*parsedSnapshot, error) {
	br := bufio.NewReaderSize(r, 1<<20)
	magic := make([]byte, len(snapshotMagic))
	if _, err := io.ReadFull(br, magic); err != nil || string(magic) != snapshotMagic {
		return nil, fmt.Errorf("%w: bad magic", errSnapshotFormat)
	}
	ps := &parsedSnapshot{shards: map[uint32][]*point{}}
	var payload []byte
	next := func() (byte, []byte, error) {
		kind, err := br.ReadByte()
		if err != nil {
			return 0, nil, fmt.Errorf("%w: truncated (no end frame)", errSnapshotFormat)
		}
		n, err := binary.ReadUvarint(br)
		if err != nil || n > maxFrameBytes {
			return 0, nil, fmt.Errorf("%w: bad frame length", errSnapshotFormat)
		}
		if uint64(cap(payload)) < n {
			payload = make([]byte, n)
		}
		payload = payload[:n]
		if _, err := io.ReadFull(br, payload); err != nil {
			return 0, nil, fmt.Errorf("%w: truncated frame", errSnapshotFormat)
		}
		return kind, payload, nil
	}
	kind, b, err := next()
	if err != nil {
		return nil, err
	}
	if kind != frameMeta || json.Unmarshal(b, &ps.meta) != nil {
		return nil, fmt.Errorf("%w: no meta frame", errSnapshotFormat)
	}
	if kind, b, err = next(); err != nil {
		return nil, err
	}
	ps.config = &qdrant.CollectionConfig{}
	if kind != frameConfig || proto.Unmarshal(b, ps.config) != nil || ps.config.GetParams() == nil {
		return nil, fmt.Errorf("%w: no config frame", errSnapshotFormat)
	}
	if kind, b, err = next(); err != nil {
		return nil, err
	}
	if kind != frameIndex || json.Unmarshal(b, &ps.index) != nil {
		return nil, fmt.Errorf("%w: no payload index frame", errSnapshotFormat)
	}
	var total uint64
	for {
		if kind, b, err = next(); err != nil {
			return nil, err
		}
		switch kind {
		case frameEnd:
			n, k := binary.Uvarint(b)
			if k <= 0 || k != len(b) || n != total {
				return nil, fmt.Errorf("%w: end frame counts %d points, read %d", errSnapshotFormat, n, total)
			}
			if _, err := br.ReadByte(); err != io.EOF {
				return nil, fmt.Errorf("%w: data after the end frame", errSnapshotFormat)
			}
			return ps, nil
		case frameShard:
			id, k1 := binary.Uvarint(b)
			count, k2 := 0, 0
			if k1 > 0 {
				var c uint64
				c, k2 = binary.Uvarint(b[k1:])
				count = int(min(c, 1<<40))
			}
			if k1 <= 0 || k2 <= 0 || k1+k2 != len(b) || id >= 1<<32 {
				return nil, fmt.Errorf("%w: bad shard frame", errSnapshotFormat)
			}
			if _, dup := ps.shards[uint32(id)]; dup {
				return nil, fmt.Errorf("%w: shard %d twice", errSnapshotFormat, id)
			}
			pts := make([]*point, 0, min(count, 1<<16))
			for range count {
				if kind, b, err = next(); err != nil {
					return nil, err
				}
				if kind != framePoint {
					return nil, fmt.Errorf("%w: shard %d has fewer points than announced", errSnapshotFormat, id)
				}
				p, err := decodeSnapshotPoint(b)
				if err != nil {
					return nil, err
				}
				pts = append(pts, p)
			}
			ps.shards[uint32(id)] = pts
			total += uint64(count)
		default:
			return nil, fmt.Errorf("%w: unexpected frame %d", errSnapshotFormat, kind)
		}
	}
}

func decodeSnapshotPoint(b []byte) (*point, error) {
	var rp qdrant.RetrievedPoint
	if err := proto.Unmarshal(bytes.Clone(b), &rp); err != nil {
		return nil, fmt.Errorf("%w: bad point: %v", errSnapshotFormat, err)
	}
	key, aerr := parsePointID(rp.GetId())
	if aerr != nil {
		return nil, fmt.Errorf("%w: bad point id: %v", errSnapshotFormat, aerr)
	}
	p := &point{key: key, payload: rp.GetPayload()}
	if p.payload == nil {
		p.payload = map[string]*qdrant.Value{}
	}
	switch v := rp.GetVectors().GetVectorsOptions().(type) {
	case *qdrant.VectorsOutput_Vector:
		vv, err := vecFromOutput(v.Vector)
		if err != nil {
			return nil, err
		}
		p.vecs = []namedVec{{name: "", v: vv}}
	case *qdrant.VectorsOutput_Vectors:
		m := v.Vectors.GetVectors()
		names := make([]string, 0, len(m))
		for name := range m {
			names = append(names, name)
		}
		sort.Strings(names)
		for _, name := range names {
			vv, err := vecFromOutput(m[name])
			if err != nil {
				return nil, err
			}
			p.vecs = append(p.vecs, namedVec{name: name, v: vv})
		}
	}
	return p, nil
}

func vecFromOutput(o *qdrant.VectorOutput) (vec, error) {
	switch x := o.GetVector().(type) {
	case *qdrant.VectorOutput_Dense:
		return vec{kind: vecDense, dense: x.Dense.GetData()}, nil
	case *qdrant.VectorOutput_Sparse:
		return vec{kind: vecSparse, idx: x.Sparse.GetIndices(), values: x.Sparse.GetValues()}, nil
	case *qdrant.VectorOutput_MultiDense:
		rows := make([][]float32, len(x.MultiDense.GetVectors()))
		for i, r := range x.MultiDense.GetVectors() {
			rows[i] = r.GetData()
		}
		return vec{kind: vecMulti, multi: rows}, nil
	}
	return vec{}, fmt.Errorf("%w: point has a vector of unknown kind", errSnapshotFormat)
}
