// Package validate is `kafka-qdrant validate`: with a config that already
// passed Config.Validate, check what a replica will need before it runs, and
// say on one line per check what was found (ok, FAIL, or WARN for what
// does not stop a replica and does not fail validate).
//
// Offline (validate --offline) dials nothing: it builds the Kafka and Qdrant
// client settings (TLS files, SASL, addresses) as a replica does. Check
// reaches every dependency with the configured credentials:
//
//	kafka        Ping (TLS handshake, SASL authentication)
//	topics       the consumed topics exist and may be read (ACL READ);
//	             kafka.topic_regex must match at least one topic now
//	dlq          kafka.dlq_topic may be written, or created (validate_only);
//	             FAIL when it is compacted (the replicas refuse it);
//	             WARN when its max.message.bytes cannot hold a record of
//	             record.max_bytes plus the DLQ headers (it would be cut)
//	control      control.topic and control.status_topic may be read and
//	             written, or created
//	auth         with control.auth: WARN when the control topic keeps the
//	             producers' timestamps (not LogAppendTime)
//	groups       kafka.group and its control group may be joined (READ)
//	txn          the control plane's transactional id <kafka.group>.control
//	             may be used: DESCRIBE is probed (DescribeTransactions);
//	             WRITE cannot be without fencing the owner
//	             (InitProducerID)
//	qdrant       health check, then a call that needs the API key
//	             (QdrantCredentials: the version call needs none)
//	rest         qdrant.rest answers with the key
//	collections  every collection the topics route to exists with a vector
//	             config (records naming their own collection are not known
//	             in advance and not covered)
//	backup       a file:// store is writable; an s3:// store answers a
//	             signed list of its prefix with the configured credentials
//	registry     schema_registry.url lists its subjects with the
//	             configured credentials (schemas are not checked: the ids
//	             records name are not known in advance)
//
// Kafka's permissions come from the authorized operations the broker
// reports (KIP-430); a broker that reports none is not second-guessed.
// Nothing is created or written, except a probe file in a file:// store
// that is removed at once.
//
// QdrantCredentials is also the Qdrant check of a replica's readiness
// probe (internal/app), so validate and /readyz agree on what a rejected key
// looks like.
package validate
