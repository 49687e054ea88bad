package config

import (
	"maps"
	"slices"

	"github.com/seed-a550a1ef/kafka-qdrant/schemas"
)

// KeyFor returns the first key id (in id order) that control.auth.commands
// allows to send every one of types, for a replica that signs commands of
// its own (the backup schedule).
func (a ControlAuth) KeyFor(types ...schemas.CommandType) (string, bool) {
	for _, id := range slices.Sorted(maps.Keys(a.Keys)) {
		spec, ok := a.Commands[id]
		if !ok {
			continue
		}
		allowed, err := ParseAuthCommands(spec)
		if err != nil {
			continue
		}
		all := true
		for _, t := range types {
			all = all && (allowed == nil || slices.Contains(allowed, t))
		}
		if all {
			return id, true
		}
	}
	return "", false
}
