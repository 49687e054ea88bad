package sink_test

import (
	"context"
	"fmt"
	"time"

	"github.com/qdrant/go-client/qdrant"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/seed-a550a1ef/kafka-qdrant/config"
	"github.com/seed-a550a1ef/kafka-qdrant/internal/qdrantmem"
	"github.com/seed-a550a1ef/kafka-qdrant/schemas"
	"github.com/seed-a550a1ef/kafka-qdrant/sink"
)

// A partition pipeline checks each decoded record, then writes the batch;
// rejected records go to the DLQ, and offsets are committed after Write
// returns nil.
func ExampleWriter_Write() {
	srv := qdrantmem.New()
	addr, err := srv.Start("127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	defer srv.Stop()

	cfg := config.Default().Qdrant
	cfg.GRPC = addr
	client, err := sink.NewClient(cfg)
	if err != nil {
		panic(err)
	}
	defer client.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := client.CreateCollection(ctx, &qdrant.CreateCollection{
		CollectionName: "movies",
		VectorsConfig:  qdrant.NewVectorsConfig(&qdrant.VectorParams{Size: 3, Distance: qdrant.Distance_Cosine}),
	}); err != nil {
		panic(err)
	}

	w := sink.NewWriter(sink.PooledPoints(client), client.GetCollectionsClient(), sink.WriterConfig{
		Retry: cfg.Retry, Timeout: cfg.Timeout,
	})
	payload, err := schemas.EncodePayload(qdrant.NewValueMap(map[string]any{"title": "Alien", "year": 1979}))
	if err != nil {
		panic(err)
	}
	records := []*schemas.Record{
		{Op: schemas.OpUpsert, ID: qdrant.NewIDNum(42), Vectors: qdrant.NewVectors(0.1, 0.2, 0.3), Payload: payload},
		{Op: schemas.OpUpsert, ID: qdrant.NewIDNum(43), Vectors: qdrant.NewVectors(0.1, 0.2)}, // wrong dimension
		{Op: schemas.OpDelete, ID: qdrant.NewIDNum(7)},
	}
	var ops []sink.Op
	for offset, r := range records {
		if err := w.Check(ctx, "movies", r); err != nil {
			if re, ok := schemas.AsRecordError(err); ok {
				fmt.Printf("offset %d to DLQ: %s: %v\n", offset, re.Class, re)
				continue
			}
			panic(err) // ctx ended
		}
		ops = append(ops, sink.Op{Record: r, Offset: int64(offset), Ref: offset})
	}
	rejected, err := w.Write(ctx, "movies", ops)
	if err != nil {
		panic(err) // ctx ended: nothing is known applied, commit nothing
	}
	points, _ := srv.Points("movies")
	fmt.Printf("applied %d ops, rejected %d, collection holds %d point(s)\n", len(ops)-len(rejected), len(rejected), len(points))
	// Output:
	// offset 1 to DLQ: validate: Wrong input: Vector dimension error: expected dim: 3, got 2
	// applied 2 ops, rejected 0, collection holds 1 point(s)
}

// Classify turns a failed Qdrant call into what to do about it: the same
// InvalidArgument code means a bad point or a collection-wide strict-mode
// limit, told apart by Qdrant's text.
func ExampleClassify() {
	for _, err := range []error{
		status.Error(codes.InvalidArgument, "Wrong input: Vector dimension error: expected dim: 4, got 3"),
		status.Error(codes.InvalidArgument, `Bad request: Limit exceeded 30 > 10 for "upsert limit". Help: Reduce the "upsert limit" parameter to or below 10.`),
		status.Error(codes.Unavailable, "connection refused"),
		status.Error(codes.ResourceExhausted, "grpc: received message larger than max (70000 vs. 65536)"),
	} {
		v := sink.Classify(err, nil)
		fmt.Println(v.Action, v.Class, v.Action.Retryable(), v.LimitName, v.Limit)
	}
	// Output:
	// reject invalid_argument false  0
	// retry_collection strict_mode true upsert limit 10
	// retry unavailable true  0
	// split request_too_large false  0
}
