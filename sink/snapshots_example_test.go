package sink_test

import (
	"context"
	"fmt"
	"time"

	"github.com/qdrant/go-client/qdrant"

	"github.com/seed-a550a1ef/kafka-qdrant/config"
	"github.com/seed-a550a1ef/kafka-qdrant/internal/qdrantmem"
	"github.com/seed-a550a1ef/kafka-qdrant/sink"
)

// Take a snapshot of a collection and recover another collection from it,
// streaming the download straight into the upload.
func ExampleSnapshotClient() {
	srv := qdrantmem.New()
	defer srv.Stop()
	grpcAddr, _ := srv.Start("127.0.0.1:0")
	rest, _ := srv.StartREST("127.0.0.1:0")
	qc, _ := sink.NewClient(config.Qdrant{GRPC: grpcAddr})
	defer qc.Close()
	ctx := context.Background()
	_ = qc.CreateCollection(ctx, &qdrant.CreateCollection{CollectionName: "movies",
		VectorsConfig: qdrant.NewVectorsConfig(&qdrant.VectorParams{Size: 2, Distance: qdrant.Distance_Dot})})
	_, _ = qc.Upsert(ctx, &qdrant.UpsertPoints{CollectionName: "movies", Wait: qdrant.PtrOf(true),
		Points: []*qdrant.PointStruct{{Id: qdrant.NewIDNum(1), Vectors: qdrant.NewVectorsDense([]float32{1, 2})}}})

	c, err := sink.NewSnapshotClient("http://"+rest, config.Qdrant{Timeout: 10 * time.Second})
	if err != nil {
		panic(err)
	}
	d, err := c.CreateSnapshot(ctx, "movies")
	if err != nil {
		panic(err)
	}
	dl, err := c.DownloadSnapshot(ctx, "movies", d.Name)
	if err != nil {
		panic(err)
	}
	err = c.UploadSnapshot(ctx, "movies_copy", dl, dl.Size, sink.UploadOptions{Checksum: d.Checksum})
	dl.Close()
	fmt.Println(err)
	n, _ := qc.Count(ctx, &qdrant.CountPoints{CollectionName: "movies_copy"})
	fmt.Println(n)
	// Output:
	// <nil>
	// 1
}
