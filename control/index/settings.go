package index

import (
	"fmt"
	"strings"

	"github.com/qdrant/go-client/qdrant"
)

// Qdrant's defaults (lib/segment HnswConfig and optimizers_builder
// DEFAULT_INDEXING_THRESHOLD_KB), restored by index_build when a setting is
// deferred and nothing better is known.
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
}

// settingsOf reads the collection-level settings from info.
func settingsOf(info *qdrant.CollectionInfo) Settings {
	var s Settings
	cfg := info.GetConfig()
	if h := cfg.GetHnswConfig(); h != nil {
		s.M, s.EfConstruct = h.M, h.EfConstruct
	}
	if o := cfg.GetOptimizerConfig(); o != nil {
		s.IndexingThreshold = o.IndexingThreshold
	}
	return s
}

// deferredM and deferredThreshold report whether a value defers indexing.
func deferredM(v *uint64) bool         { return v != nil && *v == 0 }
func deferredThreshold(v *uint64) bool { return v != nil && *v == 0 }

// usable returns v when it is set and does not defer indexing.
func usable(v *uint64) *uint64 {
	if v == nil || *v == 0 {
		return nil
	}
	return v
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
	if len(parts) == 0 {
		return "unchanged"
	}
	return strings.Join(parts, " ")
}
