package kafkaclient

import (
	"context"
	"fmt"
	"strings"

	"github.com/twmb/franz-go/pkg/kadm"
)

// TopicConfigs reads the named configuration entries of a topic (its own
// values or the broker's defaults). An entry the broker does not report is
// an error naming it.
func TopicConfigs(ctx context.Context, adm *kadm.Client, topic string, keys ...string) (map[string]string, error) {
	rcs, err := adm.DescribeTopicConfigs(ctx, topic)
	if err != nil {
		return nil, err
	}
	rc, err := rcs.On(topic, nil)
	if err == nil {
		err = rc.Err
	}
	if err != nil {
		return nil, err
	}
	out := make(map[string]string, len(keys))
	for _, c := range rc.Configs {
		for _, k := range keys {
			if c.Key == k && c.Value != nil {
				out[k] = *c.Value
			}
		}
	}
	for _, k := range keys {
		if _, ok := out[k]; !ok {
			return nil, fmt.Errorf("%s is not in the configuration of topic %s", k, topic)
		}
	}
	return out, nil
}

// Compacted reports whether a cleanup.policy value compacts the topic
// ("compact" or "compact,delete"): the broker then refuses records without
// a key, and keeps only the last record of each key.
func Compacted(cleanupPolicy string) bool {
	for _, p := range strings.Split(cleanupPolicy, ",") {
		if strings.TrimSpace(p) == "compact" {
			return true
		}
	}
	return false
}
