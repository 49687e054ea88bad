package store_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/seed-a550a1ef/kafka-qdrant/config"
	"github.com/seed-a550a1ef/kafka-qdrant/control/backup/store"
)

// A store is opened from backup.store; Put checks the bytes against the
// SHA-256 they must have, Create writes a manifest once.
func ExampleOpen() {
	dir, _ := os.MkdirTemp("", "kq-store-example-")
	defer os.RemoveAll(dir)
	ctx := context.Background()
	st, err := store.Open(ctx, config.Backup{Store: "file://" + dir})
	if err != nil {
		panic(err)
	}
	data := "snapshot bytes"
	sum := sha256.Sum256([]byte(data))
	obj, err := st.Put(ctx, "collections/movies/b-1/7.snapshot", strings.NewReader(data), int64(len(data)), hex.EncodeToString(sum[:]))
	fmt.Println(obj.Size, err)
	fmt.Println(st.Create(ctx, "collections/movies/b-1/manifest.json", []byte("{}")))
	fmt.Println(st.Create(ctx, "collections/movies/b-1/manifest.json", []byte("{}")))
	_, err = st.Put(ctx, "collections/movies/b-2/7.snapshot", strings.NewReader("other bytes"), -1, hex.EncodeToString(sum[:]))
	fmt.Println(err != nil)
	rc, _, _ := st.Get(ctx, "collections/movies/b-1/7.snapshot")
	b, _ := io.ReadAll(rc)
	rc.Close()
	fmt.Println(string(b))
	// Output:
	// 14 <nil>
	// <nil>
	// creating collections/movies/b-1/manifest.json: object already exists
	// true
	// snapshot bytes
}
