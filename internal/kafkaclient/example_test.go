package kafkaclient_test

import (
	"context"
	"fmt"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/seed-a550a1ef/kafka-qdrant/config"
	"github.com/seed-a550a1ef/kafka-qdrant/internal/kafkaclient"
)

func ExampleOptions() {
	cluster, err := kfake.NewCluster(kfake.NumBrokers(1),
		kfake.EnableSASL(), kfake.Superuser("SCRAM-SHA-512", "kq", "secret"))
	if err != nil {
		panic(err)
	}
	defer cluster.Close()

	k := config.Default().Kafka
	k.Brokers = cluster.ListenAddrs()
	k.SASL = config.SASL{Mechanism: "SCRAM-SHA-512", Username: "kq", Password: "secret"}
	opts, err := kafkaclient.Options(k)
	if err != nil {
		panic(err)
	}
	// The caller adds its own consumer or producer options.
	cl, err := kgo.NewClient(append(opts, kgo.ConsumerGroup(k.Group), kgo.ConsumeTopics(k.Topics...))...)
	if err != nil {
		panic(err)
	}
	defer cl.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	fmt.Println(kafkaclient.Ping(ctx, cl))
	// Output: <nil>
}
