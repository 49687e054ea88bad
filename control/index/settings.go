package index

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/qdrant/go-client/qdrant"
)

// Qdrant's defaults (lib/segment HnswConfig and get_indexing_threshold_kb),
// for reference in messages; a build restores recorded values, not these.
const (
	DefaultM                 uint64 = 16
	DefaultEfConstruct       uint64 = 100
	DefaultIndexingThreshold uint64 = 10000
)

// Settings are the indexing settings index_defer changes and index_build
// restores. A nil field is unknown (Qdrant reports it unset) or, in a
// target, left as it is.
type Settings struct {
	M                 *uint64 `json:"m"`
	EfConstruct       *uint64 `json:"ef_construct"`
	IndexingThreshold *uint64 `json:"indexing_threshold"`
	// Vectors are the settings of dense vectors that have their own
	// hnsw_config m (by name; "" is the unnamed vector): Qdrant builds such
	// a vector with its own m whatever the collection's is
	// (build_segment_optimizer_config), so deferring and restoring the
	// collection's m alone would not touch it.
	Vectors map[string]VectorSettings `json:"vectors,omitempty"`
}

// VectorSettings are a vector's own hnsw_config settings.
type VectorSettings struct {
	M           *uint64 `json:"m"`
	EfConstruct *uint64 `json:"ef_construct,omitempty"`
}

// settingsOf reads the collection-level settings and those of vectors
// with their own m from info.
func settingsOf(info *qdrant.CollectionInfo) Settings {
	var s Settings
	cfg := info.GetConfig()
	if h := cfg.GetHnswConfig(); h != nil {
		s.M, s.EfConstruct = h.M, h.EfConstruct
	}
	if o := cfg.GetOptimizerConfig(); o != nil {
		s.IndexingThreshold = o.IndexingThreshold
	}
	own := func(name string, p *qdrant.VectorParams) {
		if h := p.GetHnswConfig(); h != nil && h.M != nil {
			if s.Vectors == nil {
				s.Vectors = map[string]VectorSettings{}
			}
			s.Vectors[name] = VectorSettings{M: h.M, EfConstruct: h.EfConstruct}
		}
	}
	vc := cfg.GetParams().GetVectorsConfig()
	if p := vc.GetParams(); p != nil {
		own("", p)
	}
	for name, p := range vc.GetParamsMap().GetMap() {
		own(name, p)
	}
	return s
}

// deferredM and deferredThreshold report whether a value defers indexing.
func deferredM(v *uint64) bool         { return v != nil && *v == 0 }
func deferredThreshold(v *uint64) bool { return v != nil && *v == 0 }

// mDeferred reports whether no graph is built for any vector: the
// collection's m and every vector's own m are 0.
func (s Settings) mDeferred() bool {
	if !deferredM(s.M) {
		return false
	}
	for _, v := range s.Vectors {
		if !deferredM(v.M) {
			return false
		}
	}
	return true
}

func ptr(v uint64) *uint64 { return &v }

// diff returns the update that moves cur to target (nil fields of target
// are left alone) and whether anything changes.
func diff(collection string, cur, target Settings) (*qdrant.UpdateCollection, bool) {
	req := &qdrant.UpdateCollection{CollectionName: collection}
	changed := false
	ne := func(a, b *uint64) bool { return a != nil && (b == nil || *a != *b) }
	if ne(target.M, cur.M) || ne(target.EfConstruct, cur.EfConstruct) {
		req.HnswConfig = &qdrant.HnswConfigDiff{}
		if ne(target.M, cur.M) {
			req.HnswConfig.M = target.M
		}
		if ne(target.EfConstruct, cur.EfConstruct) {
			req.HnswConfig.EfConstruct = target.EfConstruct
		}
		changed = true
	}
	if ne(target.IndexingThreshold, cur.IndexingThreshold) {
		req.OptimizersConfig = &qdrant.OptimizersConfigDiff{IndexingThreshold: target.IndexingThreshold}
		changed = true
	}
	vectors := map[string]*qdrant.VectorParamsDiff{}
	for _, name := range slices.Sorted(maps.Keys(target.Vectors)) {
		t, c := target.Vectors[name], cur.Vectors[name]
		if !ne(t.M, c.M) && !ne(t.EfConstruct, c.EfConstruct) {
			continue
		}
		h := &qdrant.HnswConfigDiff{}
		if ne(t.M, c.M) {
			h.M = t.M
		}
		if ne(t.EfConstruct, c.EfConstruct) {
			h.EfConstruct = t.EfConstruct
		}
		vectors[name] = &qdrant.VectorParamsDiff{HnswConfig: h}
	}
	if len(vectors) > 0 {
		if v, single := vectors[""]; single && len(vectors) == 1 {
			req.VectorsConfig = qdrant.NewVectorsConfigDiff(v)
		} else {
			req.VectorsConfig = qdrant.NewVectorsConfigDiffMap(vectors)
		}
		changed = true
	}
	return req, changed
}

func (s Settings) String() string {
	var parts []string
	add := func(name string, v *uint64) {
		if v != nil {
			parts = append(parts, fmt.Sprintf("%s=%d", name, *v))
		}
	}
	add("m", s.M)
	add("ef_construct", s.EfConstruct)
	add("indexing_threshold", s.IndexingThreshold)
	for _, name := range slices.Sorted(maps.Keys(s.Vectors)) {
		v := s.Vectors[name]
		label := "vector " + name
		if name == "" {
			label = "the unnamed vector"
		}
		add(label+" m", v.M)
		add(label+" ef_construct", v.EfConstruct)
	}
	if len(parts) == 0 {
		return "unchanged"
	}
	return strings.Join(parts, " ")
}
