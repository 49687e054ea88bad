package harness

import (
	"context"
	"os/exec"
	"strconv"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
)

// kfakeClient starts an in-process kfake broker for the helpers' tests.
func kfakeClient(t *testing.T) (*kfake.Cluster, *kgo.Client, *kadm.Client) {
	t.Helper()
	c, err := kfake.NewCluster(kfake.NumBrokers(1))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	cl, err := kgo.NewClient(kgo.SeedBrokers(c.ListenAddrs()...))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	return c, cl, kadm.NewClient(cl)
}

func TestOffsetsHelpers(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_, cl, adm := kfakeClient(t)
	if err := CreateTopic(ctx, adm, "t", 2); err != nil {
		t.Fatal(err)
	}
	var recs []Record
	for i := 0; i < 10; i++ {
		recs = append(recs, Record{Key: []byte(strconv.Itoa(i)), Value: []byte("v")})
	}
	produced, err := Produce(ctx, cl, "t", recs)
	if err != nil {
		t.Fatal(err)
	}
	end, err := EndOffsets(ctx, adm, "t")
	if err != nil {
		t.Fatal(err)
	}
	if end.Total() != 10 || len(end) != 2 {
		t.Fatalf("end offsets %v, want 10 records over 2 partitions", end)
	}
	for i, p := range produced {
		if p.Offset < 0 || p.Offset >= end[p.Partition] {
			t.Errorf("record %d reported at %d/%d, outside %v", i, p.Partition, p.Offset, end)
		}
	}

	if err := CommittedAtEnd(ctx, adm, "g", "t"); err == nil {
		t.Error("CommittedAtEnd = nil for a group that committed nothing")
	}
	commit := func(offs Offsets) {
		t.Helper()
		var o kadm.Offsets
		for p, at := range offs {
			o.Add(kadm.Offset{Topic: "t", Partition: p, At: at, LeaderEpoch: -1})
		}
		resp, err := adm.CommitOffsets(ctx, "g", o)
		if err == nil {
			err = resp.Error()
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	short := Offsets{}
	for p, e := range end {
		short[p] = e
	}
	short[0]--
	commit(short)
	if err := CommittedAtEnd(ctx, adm, "g", "t"); err == nil {
		t.Errorf("CommittedAtEnd = nil with commits %v below the end %v", short, end)
	}
	commit(end)
	if err := CommittedAtEnd(ctx, adm, "g", "t"); err != nil {
		t.Errorf("CommittedAtEnd = %v with commits at the end", err)
	}
	got, err := CommittedOffsets(ctx, adm, "g", "t")
	if err != nil || got.String() != end.String() {
		t.Errorf("CommittedOffsets = %v, %v; want %v", got, err, end)
	}
	if err := DeleteTopics(ctx, adm, "t", "never-existed"); err != nil {
		t.Errorf("DeleteTopics with a missing topic: %v", err)
	}
}

// TestKcatRoundTrip checks the kcat line format both ways: keys, values,
// tombstones (-Z) and headers survive, and -J output parses.
func TestKcatRoundTrip(t *testing.T) {
	if _, err := exec.LookPath("kcat"); err != nil {
		t.Skip("kcat not installed")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	c, _, adm := kfakeClient(t)
	if err := CreateTopic(ctx, adm, "k", 1); err != nil {
		t.Fatal(err)
	}
	brokers := c.ListenAddrs()
	in := []Record{
		{Key: []byte("1"), Value: []byte(`{"id": 1, "vector": [1, 2]}`)},
		{Key: []byte("doc-2"), Value: nil},
	}
	if err := KcatProduce(ctx, brokers, "k", in, "source=kcat"); err != nil {
		t.Fatal(err)
	}
	msgs, err := KcatConsumeAll(ctx, brokers, "k")
	if err != nil {
		t.Fatal(err)
	}
	if len(msgs) != 2 {
		t.Fatalf("read %d records, want 2: %+v", len(msgs), msgs)
	}
	if msgs[0].Key == nil || *msgs[0].Key != "1" || msgs[0].Payload == nil || *msgs[0].Payload != string(in[0].Value) {
		t.Errorf("record 0 = %+v", msgs[0])
	}
	if msgs[1].Key == nil || *msgs[1].Key != "doc-2" || msgs[1].Payload != nil {
		t.Errorf("record 1 = %+v, want a tombstone keyed doc-2", msgs[1])
	}
	for i, m := range msgs {
		if v, ok := m.Header("source"); !ok || v != "kcat" {
			t.Errorf("record %d headers %v, want source=kcat", i, m.Headers)
		}
	}
	if err := KcatProduce(ctx, brokers, "k", []Record{{Key: []byte("a\tb"), Value: []byte("x")}}); err == nil {
		t.Error("KcatProduce accepted a key with a tab")
	}
}
