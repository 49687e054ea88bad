package schemas_test

import (
	"fmt"

	"github.com/seed-a550a1ef/kafka-qdrant/schemas"
)

func ExampleDecoder_Decode() {
	d := schemas.NewDecoder(schemas.DecoderConfig{AllowCollectionOverride: true})

	rec, err := d.Decode([]byte("ignored-key"), []byte(
		`{"id": 42, "vector": [0.1, 0.2, 0.3], "payload": {"title": "Alien", "year": 1979}, "collection_name": "movies"}`))
	if err != nil {
		panic(err)
	}
	payload, err := rec.PayloadMap() // the payload comes in wire form, ready for Qdrant
	if err != nil {
		panic(err)
	}
	fmt.Println(rec.Op, rec.ID.GetNum(), rec.Collection, rec.Vectors.GetVector().GetDense().GetData(),
		payload["title"].GetStringValue(), payload["year"].GetIntegerValue())

	// A tombstone deletes the point its key names.
	rec, _ = d.Decode([]byte("user-1"), nil)
	fmt.Println(rec.Op, rec.ID.GetUuid())

	// Bad records fail with a stable class and a message naming the field.
	_, err = d.Decode(nil, []byte(`{"id": -1, "vector": [1]}`))
	re, _ := schemas.AsRecordError(err)
	fmt.Println(re.Class, re.Stage, err)
	// Output:
	// upsert 42 movies [0.1 0.2 0.3] Alien 1979
	// delete e05df495-15f3-55d9-b800-59fc81fc7d0f
	// validate validate field "id": -1 is negative; want an unsigned integer or a string
}

func ExamplePointID() {
	for _, s := range []string{"42", "0042", "6F1C1B2E-4A8D-4C1E-9B6E-2F0D3C4B5A69", "user-1"} {
		id := schemas.PointID(s)
		fmt.Printf("%-38s -> %T %v\n", s, id.GetPointIdOptions(), schemas.IDKeyOf(id))
	}
	// Output:
	// 42                                     -> *qdrant.PointId_Num 42
	// 0042                                   -> *qdrant.PointId_Num 42
	// 6F1C1B2E-4A8D-4C1E-9B6E-2F0D3C4B5A69   -> *qdrant.PointId_Uuid 6f1c1b2e-4a8d-4c1e-9b6e-2f0d3c4b5a69
	// user-1                                 -> *qdrant.PointId_Uuid e05df495-15f3-55d9-b800-59fc81fc7d0f
}
