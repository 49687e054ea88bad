package validate

import (
	"slices"
	"strings"

	"github.com/seed-a550a1ef/kafka-qdrant/config"
)

// route is one collection the replicas write to and the topics routed to it.
type route struct {
	collection string
	topics     []string
}

// routes returns the collections that topics are routed to, sorted by
// collection (config.Routing.Route, the connector's rule). A
// record's own collection field (routing.allow_record_override) is not
// known before the record arrives and is not covered.
func routes(r config.Routing, topics []string) []route {
	byCollection := make(map[string][]string)
	for _, t := range topics {
		c := r.Route(t, "")
		byCollection[c] = append(byCollection[c], t)
	}
	out := make([]route, 0, len(byCollection))
	for c, ts := range byCollection {
		slices.Sort(ts)
		out = append(out, route{collection: c, topics: ts})
	}
	slices.SortFunc(out, func(a, b route) int { return strings.Compare(a.collection, b.collection) })
	return out
}
