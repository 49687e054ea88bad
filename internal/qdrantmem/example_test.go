package qdrantmem_test

import (
	"context"
	"fmt"
	"net"
	"strconv"
	"sync"
	"time"

	"github.com/qdrant/go-client/qdrant"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/seed-a550a1ef/kafka-qdrant/internal/qdrantmem"
)

// connect returns a go-client for a started server.
func connect(addr string) *qdrant.Client {
	host, p, _ := net.SplitHostPort(addr)
	port, _ := strconv.Atoi(p)
	c, err := qdrant.NewClient(&qdrant.Config{Host: host, Port: port, SkipCompatibilityCheck: true})
	if err != nil {
		panic(err)
	}
	return c
}

func Example() {
	srv := qdrantmem.New()
	addr, err := srv.Start("127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	defer srv.Stop()
	client := connect(addr)
	defer client.Close()
	ctx := context.Background()

	_ = client.CreateCollection(ctx, &qdrant.CreateCollection{
		CollectionName: "movies",
		VectorsConfig:  qdrant.NewVectorsConfig(&qdrant.VectorParams{Size: 3, Distance: qdrant.Distance_Dot}),
	})
	_, _ = client.Upsert(ctx, &qdrant.UpsertPoints{
		CollectionName: "movies",
		Wait:           qdrant.PtrOf(true),
		Points: []*qdrant.PointStruct{{
			Id:      qdrant.NewIDNum(42),
			Vectors: qdrant.NewVectors(0.1, 0.2, 0.3),
			Payload: qdrant.NewValueMap(map[string]any{"title": "Alien"}),
		}},
	})
	_, err = client.Upsert(ctx, &qdrant.UpsertPoints{
		CollectionName: "movies",
		Points:         []*qdrant.PointStruct{{Id: qdrant.NewIDNum(43), Vectors: qdrant.NewVectors(0.1, 0.2)}},
	})
	fmt.Println(status.Convert(errorsUnwrap(err)).Message())

	points, _ := srv.Points("movies")
	fmt.Println(points["n:42"].GetPayload()["title"].GetStringValue())
	// Output:
	// Wrong input: Vector dimension error: expected dim: 3, got 2
	// Alien
}

func ExampleServer_FailNext() {
	srv := qdrantmem.New()
	addr, _ := srv.Start("127.0.0.1:0")
	defer srv.Stop()
	client := connect(addr)
	defer client.Close()

	// The next two calls of any method fail as an overloaded Qdrant would.
	srv.FailNext(qdrantmem.AllMethods, 2, codes.Unavailable, "overloaded")
	for range 3 {
		_, err := client.ListCollections(context.Background())
		fmt.Println(status.Code(errorsUnwrap(err)))
	}
	// Output:
	// Unavailable
	// Unavailable
	// OK
}

// manualClock is a Clock a test moves by hand.
type manualClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *manualClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *manualClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

func ExampleWithClock() {
	clk := &manualClock{now: time.Unix(0, 0)}
	srv := qdrantmem.New(qdrantmem.WithClock(clk), qdrantmem.WithIndexingRate(1000))
	addr, _ := srv.Start("127.0.0.1:0")
	defer srv.Stop()
	client := connect(addr)
	defer client.Close()
	ctx := context.Background()

	// 2000 points of 128 float32 (512 B) exceed an indexing threshold of 100 KB.
	_ = client.CreateCollection(ctx, &qdrant.CreateCollection{
		CollectionName:   "c",
		VectorsConfig:    qdrant.NewVectorsConfig(&qdrant.VectorParams{Size: 128, Distance: qdrant.Distance_Dot}),
		OptimizersConfig: &qdrant.OptimizersConfigDiff{IndexingThreshold: qdrant.PtrOf(uint64(100))},
	})
	points := make([]*qdrant.PointStruct, 2000)
	for i := range points {
		points[i] = &qdrant.PointStruct{Id: qdrant.NewIDNum(uint64(i)), Vectors: qdrant.NewVectorsDense(make([]float32, 128))}
	}
	_, _ = client.Upsert(ctx, &qdrant.UpsertPoints{CollectionName: "c", Wait: qdrant.PtrOf(true), Points: points})

	for range 3 {
		info, _ := client.GetCollectionInfo(ctx, "c")
		fmt.Println(info.GetStatus(), info.GetIndexedVectorsCount())
		clk.Advance(time.Second)
	}
	// Output:
	// Yellow 0
	// Yellow 1000
	// Green 2000
}

// errorsUnwrap strips the go-client's error wrapper to reach the gRPC status.
func errorsUnwrap(err error) error {
	if qe, ok := err.(*qdrant.QdrantError); ok {
		return qe.Unwrap()
	}
	return err
}
