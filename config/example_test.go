package config_test

import (
	"errors"
	"fmt"

	"github.com/seed-a550a1ef/kafka-qdrant/config"
)

func ExampleLoad() {
	cfg, err := config.Load("",
		[]string{"KQ__KAFKA__BROKERS=kafka-1:9092,kafka-2:9092", "KQ__KAFKA__DLQ_TOPIC=vectors.dlq"},
		[]string{"routing.topics.vectors=movies", "batch.max_bytes=8MiB"})
	if err != nil {
		fmt.Println(err)
		return
	}
	if err := cfg.Validate(); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(cfg.Kafka.Brokers, cfg.Kafka.DLQTopic, cfg.Routing.Topics, cfg.Batch.MaxBytes)
	// Output: [kafka-1:9092 kafka-2:9092] vectors.dlq map[vectors:movies] 8MiB
}

func ExampleConfig_Validate() {
	cfg := config.Default()
	cfg.Kafka.Brokers = nil
	cfg.Batch.MaxRecords = 0
	err := cfg.Validate()
	fmt.Println(err)

	var v config.ValidationError
	if errors.As(err, &v) {
		fmt.Println(v.Keys())
	}
	// Output:
	// kafka.brokers: must not be empty
	// batch.max_records: must be > 0, got 0
	// [kafka.brokers batch.max_records]
}
