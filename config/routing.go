package config

import "slices"

// Route is the collection a record of topic goes to: override (the
// record's collection_name, when routing.allow_record_override lets it
// through) wins, then routing.topics[topic], then routing.collection, then
// the topic name.
func (r Routing) Route(topic, override string) string {
	if override != "" {
		return override
	}
	if c := r.Topics[topic].Collection; c != "" {
		return c
	}
	if r.Collection != "" {
		return r.Collection
	}
	return topic
}

// MayRoute reports whether records of topic can go to collection: always
// when records may name their collection, else when topic routes there.
func (r Routing) MayRoute(topic, collection string) bool {
	return r.AllowRecordOverride || r.Route(topic, "") == collection
}

// BackupCollections are the collections the backup schedule backs up:
// backup.collections, else every collection the routing names for the
// configured topics and the topics of routing.topics (their collections,
// routing.collection, their names). Sorted, without duplicates.
func (c Config) BackupCollections() []string {
	if len(c.Backup.Collections) > 0 {
		out := slices.Clone(c.Backup.Collections)
		slices.Sort(out)
		return slices.Compact(out)
	}
	var out []string
	for _, t := range c.Kafka.Topics {
		out = append(out, c.Routing.Route(t, ""))
	}
	for t := range c.Routing.Topics {
		out = append(out, c.Routing.Route(t, ""))
	}
	slices.Sort(out)
	return slices.Compact(out)
}
