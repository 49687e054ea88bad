package validate

import (
	"context"
	"errors"
	"fmt"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/seed-a550a1ef/kafka-qdrant/config"
	"github.com/seed-a550a1ef/kafka-qdrant/connector"
	"github.com/seed-a550a1ef/kafka-qdrant/control"
	"github.com/seed-a550a1ef/kafka-qdrant/internal/kafkaclient"
)

// topicInfo is what one metadata response says about a topic.
type topicInfo struct {
	exists     bool
	err        error // the topic's error code, e.g. TOPIC_AUTHORIZATION_FAILED
	partitions int
	ops        int32 // authorized operations; math.MinInt32: not reported
}

// may reports whether ops (the authorized operations of a topic the
// principal could describe) permits op. known is false when the broker did
// not report them: MinInt32 (older brokers), or a bitfield without DESCRIBE,
// which a broker that answered the metadata request cannot mean (some
// Kafka-compatible servers send 0).
func may(ops int32, op kmsg.ACLOperation) (allowed, known bool) {
	if ops == math.MinInt32 || ops&(1<<int32(kmsg.ACLOperationDescribe)) == 0 {
		return false, false
	}
	return ops&(1<<int32(op)) != 0, true
}

// checkKafka reaches the brokers and checks what the replica needs of them:
// its data topics exist and may be read, the DLQ, control and status topics
// may be written (or do not exist yet and may be created), and the consumer
// groups may be used. It returns the consumed topics (the matches of
// kafka.topic_regex, or kafka.topics) when the brokers answered.
func checkKafka(ctx context.Context, cfg config.Config, r *reporter) (consumed []string, reached bool) {
	opts, err := kafkaclient.Options(cfg.Kafka)
	if err != nil {
		r.fail("kafka", err)
		return nil, false
	}
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		r.fail("kafka", err)
		return nil, false
	}
	defer cl.Close()
	if err := kafkaclient.Ping(ctx, cl); err != nil {
		r.fail("kafka", err)
		return nil, false
	}
	r.ok("kafka", "%s reachable%s", strings.Join(cfg.Kafka.Brokers, ","), describeKafkaAuth(cfg.Kafka))

	consumed = checkDataTopics(ctx, cl, cfg.Kafka, r)
	var special []string
	if cfg.Kafka.DLQTopic != "" {
		special = append(special, cfg.Kafka.DLQTopic)
	}
	if cfg.Control.Enabled {
		special = append(special, cfg.Control.Topic, cfg.Control.StatusTopic)
	}
	if len(special) > 0 {
		infos, err := describeTopics(ctx, cl, special)
		if err != nil {
			r.fail("topics", err)
			return consumed, true
		}
		adm := kadm.NewClient(cl)
		if t := cfg.Kafka.DLQTopic; t != "" {
			detail, err := writable(ctx, adm, t, infos[t], kmsg.ACLOperationWrite)
			r.result("dlq", detail, err)
			if err == nil && infos[t].exists {
				checkDLQTopic(ctx, adm, t, cfg.Record.MaxBytes, r)
			}
		}
		if cfg.Control.Enabled {
			// The replicas read commands and status events and write status
			// events; ctl writes commands.
			d1, err1 := writable(ctx, adm, cfg.Control.Topic, infos[cfg.Control.Topic], kmsg.ACLOperationRead, kmsg.ACLOperationWrite)
			d2, err2 := writable(ctx, adm, cfg.Control.StatusTopic, infos[cfg.Control.StatusTopic], kmsg.ACLOperationRead, kmsg.ACLOperationWrite)
			r.result("control", d1+"; "+d2, errors.Join(err1, err2))
			if len(cfg.Control.Auth.Keys) > 0 && infos[cfg.Control.Topic].exists {
				checkControlTimestamps(ctx, adm, cfg.Control.Topic, r)
			}
		}
	}
	groups := []string{cfg.Kafka.Group}
	if cfg.Control.Enabled {
		groups = append(groups, control.Group(cfg.Kafka.Group))
	}
	r.result("groups", strings.Join(groups, ", ")+" may be joined", checkGroups(ctx, kadm.NewClient(cl), groups))
	if cfg.Control.Enabled {
		detail, err := checkTxnID(ctx, kadm.NewClient(cl), control.Group(cfg.Kafka.Group))
		r.result("txn", detail, err)
	}
	return consumed, true
}

// dlqHeadroom is what a DLQ record adds to the value of the record it
// carries, beyond its original key and headers: the error headers (the
// message is cut at 4 KiB) and the batch framing, rounded up.
const dlqHeadroom = 8 << 10

// checkDLQTopic fails a compacted DLQ topic (the replicas refuse it:
// connector.CheckDLQCleanupPolicy), and warns when its max.message.bytes
// cannot hold a record of record.max_bytes with its error headers: such
// records would be dead-lettered cut (header kq.errors.truncated), without
// their value.
func checkDLQTopic(ctx context.Context, adm *kadm.Client, topic string, maxRecord config.ByteSize, r *reporter) {
	cfgs, err := kafkaclient.TopicConfigs(ctx, adm, topic, "max.message.bytes", "cleanup.policy")
	var limit int64
	if err == nil {
		if err := connector.CheckDLQCleanupPolicy(topic, cfgs["cleanup.policy"]); err != nil {
			r.fail("dlq", err)
			return
		}
		limit, err = strconv.ParseInt(cfgs["max.message.bytes"], 10, 64)
	}
	if err != nil {
		r.warn("dlq", "%s: max.message.bytes and cleanup.policy not readable (ACL DESCRIBE_CONFIGS on the topic): %v", topic, err)
		return
	}
	if need := int64(maxRecord) + dlqHeadroom; limit < need {
		r.warn("dlq", "%s: max.message.bytes is %d, below record.max_bytes (%d) plus %d bytes of DLQ headers: bad records near record.max_bytes would be dead-lettered without their value (kq.errors.truncated); set the topic's max.message.bytes to at least %d",
			topic, limit, int64(maxRecord), dlqHeadroom, need)
	}
}

// checkControlTimestamps warns when control.auth is on and the control
// topic's records carry the producer's time: the issued_at window then
// runs from when the owner reads a command, so one that waited in the
// topic longer than the window (an outage) is refused.
func checkControlTimestamps(ctx context.Context, adm *kadm.Client, topic string, r *reporter) {
	cfgs, err := kafkaclient.TopicConfigs(ctx, adm, topic, "message.timestamp.type")
	switch v := cfgs["message.timestamp.type"]; {
	case err != nil:
		r.warn("auth", "%s: message.timestamp.type not readable (ACL DESCRIBE_CONFIGS on the topic): %v", topic, err)
	case v != "LogAppendTime":
		r.warn("auth", "%s: message.timestamp.type is %s: control.auth windows run from when the owner reads a command, not from its arrival, so commands waiting out an outage longer than control.auth.window are refused; set it to LogAppendTime", topic, v)
	}
}

// checkTxnID checks that the control plane's transactional id may be used
// (ACL WRITE and DESCRIBE on it): the owner of the control partition
// publishes status events in transactions under it. Only DESCRIBE can be
// probed (DescribeTransactions; WRITE implies it): checking WRITE needs
// InitProducerID, which would fence the replica owning the partition now.
func checkTxnID(ctx context.Context, adm *kadm.Client, id string) (string, error) {
	described, err := adm.DescribeTransactions(ctx, id)
	for delay := 250 * time.Millisecond; err != nil && retriable(err) && delay < 10*time.Second; delay *= 2 {
		select {
		case <-ctx.Done():
			return "", fmt.Errorf("describing transactional id %s: %w", id, err)
		case <-time.After(delay):
		}
		described, err = adm.DescribeTransactions(ctx, id)
	}
	if err == nil {
		err = described[id].Err
	}
	var authErr *kadm.AuthError
	switch {
	case errors.As(err, &authErr), errors.Is(err, kerr.TransactionalIDAuthorizationFailed):
		return "", fmt.Errorf("transactional id %s: not permitted to use it (ACL WRITE and DESCRIBE on the transactional id): the control plane publishes command status in transactions under it", id)
	case errors.Is(err, kerr.TransactionalIDNotFound):
		return fmt.Sprintf("transactional id %s may be described (not used yet); WRITE is checked when a replica takes the control partition over", id), nil
	case err != nil:
		return "", fmt.Errorf("describing transactional id %s: %w", id, err)
	}
	return fmt.Sprintf("transactional id %s may be described (state %s); WRITE is checked when a replica takes the control partition over", id, described[id].State), nil
}

// checkDataTopics reports whether every consumed topic exists and may be
// read, and returns the consumed topics.
func checkDataTopics(ctx context.Context, cl *kgo.Client, k config.Kafka, r *reporter) []string {
	var names []string
	if k.TopicRegex == "" {
		names = k.Topics
	}
	infos, err := describeTopics(ctx, cl, names) // nil: every topic, for the regex
	if err != nil {
		r.fail("topics", err)
		return nil
	}
	if k.TopicRegex != "" {
		re, err := regexp.Compile(k.TopicRegex)
		if err != nil { // Config.Validate compiled it already
			r.fail("topics", fmt.Errorf("kafka.topic_regex: %w", err))
			return nil
		}
		for name, info := range infos {
			if info.exists && re.MatchString(name) && !strings.HasPrefix(name, "__") {
				names = append(names, name)
			}
		}
		slices.Sort(names)
		if len(names) == 0 {
			r.fail("topics", fmt.Errorf("kafka.topic_regex %q matches no topic this principal may describe", k.TopicRegex))
			return nil
		}
	}
	var problems []error
	var described []string
	for _, name := range names {
		info := infos[name]
		switch {
		case errors.Is(info.err, kerr.TopicAuthorizationFailed):
			// Kafka hides whether a topic the principal may not
			// describe exists.
			problems = append(problems, fmt.Errorf("%s: not found, or not permitted to describe it (ACL DESCRIBE and READ on the topic)", name))
		case !info.exists:
			problems = append(problems, fmt.Errorf("%s: topic not found (kafka.topics)", name))
		default:
			if ok, known := may(info.ops, kmsg.ACLOperationRead); known && !ok {
				problems = append(problems, fmt.Errorf("%s: not permitted to read it (ACL READ on the topic)", name))
				continue
			}
			described = append(described, fmt.Sprintf("%s (%d partitions)", name, info.partitions))
		}
	}
	if err := errors.Join(problems...); err != nil {
		r.fail("topics", err)
		return names
	}
	how := "kafka.topics"
	if k.TopicRegex != "" {
		how = fmt.Sprintf("matching kafka.topic_regex %q now", k.TopicRegex)
	}
	r.ok("topics", "%s readable (%s)", strings.Join(described, ", "), how)
	return names
}

// describeTopics asks for the metadata of names (nil: every topic the
// principal may describe) with the principal's authorized operations. It
// never creates a topic.
func describeTopics(ctx context.Context, cl *kgo.Client, names []string) (map[string]topicInfo, error) {
	req := kmsg.NewPtrMetadataRequest()
	req.AllowAutoTopicCreation = false
	req.IncludeTopicAuthorizedOperations = true
	if names != nil {
		req.Topics = []kmsg.MetadataRequestTopic{}
		for _, n := range names {
			t := kmsg.NewMetadataRequestTopic()
			t.Topic = kmsg.StringPtr(n)
			req.Topics = append(req.Topics, t)
		}
	}
	resp, err := req.RequestWith(ctx, cl)
	if err != nil {
		return nil, fmt.Errorf("describing topics: %w", err)
	}
	infos := make(map[string]topicInfo, len(resp.Topics))
	for _, t := range resp.Topics {
		if t.Topic == nil {
			continue
		}
		err := kerr.ErrorForCode(t.ErrorCode)
		infos[*t.Topic] = topicInfo{
			exists:     err == nil,
			err:        err,
			partitions: len(t.Partitions),
			ops:        t.AuthorizedOperations,
		}
	}
	return infos, nil
}

// writable checks that topic exists and permits ops, or does not exist and
// may be created (CreateTopics with validate_only: the broker checks the
// CREATE permission and creates nothing), as the replica creates its DLQ,
// control and status topics when they are missing. The detail says which.
func writable(ctx context.Context, adm *kadm.Client, topic string, info topicInfo, ops ...kmsg.ACLOperation) (string, error) {
	switch {
	case errors.Is(info.err, kerr.TopicAuthorizationFailed):
		return "", fmt.Errorf("%s: not found, or not permitted to describe it (ACL DESCRIBE on the topic)", topic)
	case info.exists:
		var missing []string
		for _, op := range ops {
			if ok, known := may(info.ops, op); known && !ok {
				missing = append(missing, strings.ToUpper(op.String()))
			}
		}
		if len(missing) > 0 {
			return "", fmt.Errorf("%s: not permitted to %s it (ACL %s on the topic)", topic,
				strings.ToLower(strings.Join(missing, " and ")), strings.Join(missing, " and "))
		}
		return topic + " writable", nil
	}
	resp, err := adm.ValidateCreateTopics(ctx, -1, -1, nil, topic)
	if err == nil {
		err = resp.Error()
	}
	switch {
	case err == nil:
		return topic + " does not exist yet; the replicas will create it", nil
	case errors.Is(err, kerr.TopicAlreadyExists): // created since the metadata request
		return topic + " writable", nil
	case errors.Is(err, kerr.TopicAuthorizationFailed), errors.Is(err, kerr.ClusterAuthorizationFailed):
		return "", fmt.Errorf("%s: does not exist and this principal may not create it (ACL CREATE on the cluster or the topic): create it", topic)
	}
	return "", fmt.Errorf("%s: does not exist and cannot be created: %w", topic, err)
}

// checkGroups checks that each consumer group may be joined and committed
// to (ACL READ on the group).
func checkGroups(ctx context.Context, adm *kadm.Client, groups []string) error {
	described, err := adm.DescribeGroups(ctx, groups...)
	// A new cluster answers COORDINATOR_NOT_AVAILABLE until its offsets
	// topic is loaded: retry retriable answers for a while.
	for delay := 250 * time.Millisecond; err != nil && retriable(err) && delay < 10*time.Second; delay *= 2 {
		select {
		case <-ctx.Done():
			return fmt.Errorf("describing groups %s: %w", strings.Join(groups, ", "), err)
		case <-time.After(delay):
		}
		described, err = adm.DescribeGroups(ctx, groups...)
	}
	var authErr *kadm.AuthError
	if errors.As(err, &authErr) || errors.Is(err, kerr.GroupAuthorizationFailed) {
		return fmt.Errorf("groups %s: not permitted to use them (ACL READ on the groups): %w", strings.Join(groups, ", "), err)
	}
	if err != nil {
		return fmt.Errorf("describing groups %s: %w", strings.Join(groups, ", "), err)
	}
	var problems []error
	for _, g := range groups {
		d, ok := described[g]
		switch {
		case !ok:
			continue
		case errors.Is(d.Err, kerr.GroupAuthorizationFailed):
			problems = append(problems, fmt.Errorf("group %s: not permitted to use it (ACL READ on the group)", g))
		case len(d.AuthorizedOperations) > 0 && !slices.Contains(d.AuthorizedOperations, kmsg.ACLOperationRead):
			problems = append(problems, fmt.Errorf("group %s: not permitted to join it (ACL READ on the group)", g))
		}
	}
	return errors.Join(problems...)
}

// retriable reports whether err, or every shard error in it, is a retriable
// Kafka error.
func retriable(err error) bool {
	var shards *kadm.ShardErrors
	if errors.As(err, &shards) {
		for _, s := range shards.Errs {
			if !kerr.IsRetriable(s.Err) {
				return false
			}
		}
		return len(shards.Errs) > 0
	}
	return kerr.IsRetriable(err)
}
