package recordpb_test

import (
	"fmt"

	"google.golang.org/protobuf/proto"

	"github.com/seed-a550a1ef/kafka-qdrant/schemas/recordpb"
)

// A producer builds a Record and sends proto.Marshal's bytes as the value of
// a record on a topic whose record.format is protobuf.
func ExampleRecord() {
	rec := &recordpb.Record{
		Id: &recordpb.Record_Num{Num: 42},
		Vector: &recordpb.Record_Dense{Dense: &recordpb.DenseVector{
			Data: []float32{0.1, 0.2, 0.3, 0.4},
		}},
		Payload: map[string]*recordpb.Value{
			"title": {Kind: &recordpb.Value_StringValue{StringValue: "Alien"}},
			"year":  {Kind: &recordpb.Value_IntegerValue{IntegerValue: 1979}},
		},
	}
	value, err := proto.Marshal(rec)
	if err != nil {
		panic(err)
	}
	fmt.Println(len(value) > 0)
	// Output: true
}
