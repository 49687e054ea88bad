//go:build docker

package harness

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"os"
	"time"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/network"
	"github.com/testcontainers/testcontainers-go"
	"github.com/testcontainers/testcontainers-go/wait"
)

// Images started in the Docker environment; each can be overridden.
var (
	kafkaImage  = envOr("KQ_E2E_KAFKA_IMAGE", "apache/kafka:4.1.1")
	qdrantImage = envOr("KQ_E2E_QDRANT_IMAGE", "qdrant/qdrant:latest")
	minioImage  = envOr("KQ_E2E_MINIO_IMAGE", "minio/minio:latest")
)

// dockerWanted reports whether servers that are not external should run
// in Docker: KQ_E2E_DOCKER=1, or unset and a Docker engine is reachable.
func dockerWanted() (bool, error) {
	switch os.Getenv("KQ_E2E_DOCKER") {
	case "1":
		return true, nil
	case "0":
		return false, nil
	}
	if os.Getenv("DOCKER_HOST") != "" {
		return true, nil
	}
	_, err := os.Stat("/var/run/docker.sock")
	return err == nil, nil
}

// dockerKafka starts a single node KRaft apache/kafka. Its advertised
// listener must be the address clients dial, so the host port is chosen
// first and bound explicitly.
func dockerKafka(ctx context.Context) (string, func(), error) {
	hostAddr, err := freeAddr()
	if err != nil {
		return "", nil, err
	}
	_, hostPort, _ := net.SplitHostPort(hostAddr)
	c, err := testcontainers.Run(ctx, kafkaImage,
		testcontainers.WithExposedPorts("9092/tcp"),
		testcontainers.WithHostConfigModifier(func(hc *container.HostConfig) {
			hc.PortBindings = network.PortMap{
				network.MustParsePort("9092/tcp"): {{HostIP: netip.MustParseAddr("127.0.0.1"), HostPort: hostPort}},
			}
		}),
		testcontainers.WithEnv(map[string]string{
			"KAFKA_NODE_ID":                                          "1",
			"KAFKA_PROCESS_ROLES":                                    "broker,controller",
			"KAFKA_LISTENERS":                                        "PLAINTEXT://:9092,CONTROLLER://:9093",
			"KAFKA_ADVERTISED_LISTENERS":                             "PLAINTEXT://" + hostAddr,
			"KAFKA_CONTROLLER_LISTENER_NAMES":                        "CONTROLLER",
			"KAFKA_LISTENER_SECURITY_PROTOCOL_MAP":                   "CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT",
			"KAFKA_CONTROLLER_QUORUM_VOTERS":                         "1@localhost:9093",
			"KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR":                 "1",
			"KAFKA_OFFSETS_TOPIC_NUM_PARTITIONS":                     "3",
			"KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR":         "1",
			"KAFKA_TRANSACTION_STATE_LOG_MIN_ISR":                    "1",
			"KAFKA_SHARE_COORDINATOR_STATE_TOPIC_REPLICATION_FACTOR": "1",
			"KAFKA_SHARE_COORDINATOR_STATE_TOPIC_MIN_ISR":            "1",
			"KAFKA_GROUP_INITIAL_REBALANCE_DELAY_MS":                 "0",
			"KAFKA_AUTO_CREATE_TOPICS_ENABLE":                        "false",
		}),
		testcontainers.WithWaitStrategyAndDeadline(2*time.Minute, wait.ForListeningPort("9092/tcp")),
	)
	if err != nil {
		return "", nil, fmt.Errorf("starting %s: %w", kafkaImage, err)
	}
	return hostAddr, terminate(c), nil
}

// dockerQdrant starts qdrant/qdrant and returns its gRPC address and REST
// base URL.
func dockerQdrant(ctx context.Context) (string, string, func(), error) {
	c, err := testcontainers.Run(ctx, qdrantImage,
		testcontainers.WithExposedPorts("6333/tcp", "6334/tcp"),
		testcontainers.WithWaitStrategyAndDeadline(2*time.Minute,
			wait.ForHTTP("/readyz").WithPort("6333/tcp"),
			wait.ForListeningPort("6334/tcp")),
	)
	if err != nil {
		return "", "", nil, fmt.Errorf("starting %s: %w", qdrantImage, err)
	}
	grpcAddr, err := c.PortEndpoint(ctx, "6334/tcp", "")
	if err != nil {
		terminate(c)()
		return "", "", nil, fmt.Errorf("qdrant gRPC port: %w", err)
	}
	rest, err := c.PortEndpoint(ctx, "6333/tcp", "http")
	if err != nil {
		terminate(c)()
		return "", "", nil, fmt.Errorf("qdrant REST port: %w", err)
	}
	return grpcAddr, rest, terminate(c), nil
}

// dockerS3 starts minio/minio with fixed credentials.
func dockerS3(ctx context.Context) (*S3Env, func(), error) {
	const access, secret = "kqe2eaccess", "kqe2esecretkey0123456789"
	c, err := testcontainers.Run(ctx, minioImage,
		testcontainers.WithCmd("server", "/data"),
		testcontainers.WithExposedPorts("9000/tcp"),
		testcontainers.WithEnv(map[string]string{"MINIO_ROOT_USER": access, "MINIO_ROOT_PASSWORD": secret}),
		testcontainers.WithWaitStrategyAndDeadline(2*time.Minute, wait.ForHTTP("/minio/health/live").WithPort("9000/tcp")),
	)
	if err != nil {
		return nil, nil, fmt.Errorf("starting %s: %w", minioImage, err)
	}
	endpoint, err := c.PortEndpoint(ctx, "9000/tcp", "http")
	if err != nil {
		terminate(c)()
		return nil, nil, fmt.Errorf("minio port: %w", err)
	}
	return &S3Env{Kind: "docker", Endpoint: endpoint, AccessKey: access, SecretKey: secret,
		Region: "us-east-1", Server: minioImage}, terminate(c), nil
}

func terminate(c testcontainers.Container) func() {
	return func() { _ = testcontainers.TerminateContainer(c) }
}
