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
// collection, by the rule of the connector's router (connector/routing.go):
// routing.topics[topic], else routing.collection, else the topic's name. A
// record's own collection field (routing.allow_record_override) is not
// known before the record arrives and is not covered.
func routes(r config.Routing, topics []string) []route {
	byCollection := make(map[string][]string)
	for _, t := range topics {
		c, ok := r.Topics[t]
		switch {
		case ok:
		case r.Collection != "":
			c = r.Collection
		default:
			c = t
		}
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
