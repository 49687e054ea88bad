package control

import (
	"context"
	"encoding/json"
	"time"

	"github.com/seed-a550a1ef/kafka-qdrant/control/statusview"
	"github.com/seed-a550a1ef/kafka-qdrant/schemas"
)

// viewRecords gives index_build what index_defer recorded: the result of
// the collection's pending index_defer — the latest succeeded one that no
// succeeded index_build followed on the status topic — after catching up
// with the topic. Retention keeps that event (retire).
type viewRecords struct{ f *statusview.Follower }

func (v viewRecords) LastDefer(ctx context.Context, collection string) (json.RawMessage, bool, error) {
	sctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := v.f.Sync(sctx); err != nil {
		return nil, false, err
	}
	d, ok := v.f.View().LatestFinalEntry(schemas.CommandIndexDefer, collection, schemas.StateSucceeded)
	if !ok || len(d.Latest.Result) == 0 {
		return nil, false, nil
	}
	if b, built := v.f.View().LatestFinalEntry(schemas.CommandIndexBuild, collection, schemas.StateSucceeded); built && b.At.After(d.At) {
		return nil, false, nil
	}
	return d.Latest.Result, true, nil
}

// finalCache remembers the final statuses this runner published, so a
// duplicate arriving before the status view caught up is not run again.
// It is bounded; older entries are in the status view by then.
type finalCache struct {
	m     map[string]schemas.Status
	order []string
}

const finalCacheSize = 10000

func (c *finalCache) put(s schemas.Status) {
	if c.m == nil {
		c.m = map[string]schemas.Status{}
	}
	if _, ok := c.m[s.CommandID]; !ok {
		c.order = append(c.order, s.CommandID)
	}
	c.m[s.CommandID] = s
	if len(c.order) > finalCacheSize {
		delete(c.m, c.order[0])
		c.order = c.order[1:]
	}
}

func (c *finalCache) get(id string) (schemas.Status, bool) {
	s, ok := c.m[id]
	return s, ok
}
