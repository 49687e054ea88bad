package control

import (
	"testing"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/seed-a550a1ef/kafka-qdrant/schemas"
)

func TestEnsureTopics(t *testing.T) {
	kc, err := kfake.NewCluster(kfake.NumBrokers(1))
	if err != nil {
		t.Fatal(err)
	}
	defer kc.Close()
	opts := []kgo.Opt{kgo.SeedBrokers(kc.ListenAddrs()...)}
	for i := range 2 { // the second call finds them and succeeds
		if err := EnsureTopics(t.Context(), opts, "c", "s", quietLogger()); err != nil {
			t.Fatalf("call %d: %v", i+1, err)
		}
	}
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	details, err := adm.ListTopics(t.Context(), "c", "s")
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"c", "s"} {
		if d := details[name]; d.Err != nil || len(d.Partitions) != 1 {
			t.Fatalf("topic %s: %+v, want 1 partition", name, d)
		}
	}
	rcs, err := adm.DescribeTopicConfigs(t.Context(), "s", "c")
	if err != nil {
		t.Fatal(err)
	}
	policy, segment := map[string]string{}, ""
	for _, rc := range rcs {
		for _, c := range rc.Configs {
			switch {
			case c.Key == "cleanup.policy":
				policy[rc.Name] = c.MaybeValue()
			case c.Key == "segment.ms" && rc.Name == "s":
				segment = c.MaybeValue()
			}
		}
	}
	if policy["s"] != "compact" || policy["c"] == "compact" || segment != "86400000" {
		t.Fatalf("cleanup.policy = %v, status segment.ms = %q; want s compacted with one-day segments, c not", policy, segment)
	}
}

func TestTypeLabelIsBounded(t *testing.T) {
	for in, want := range map[string]string{"index_build": "index_build", "backup": "backup", "frobnicate": "unknown", "": "unknown"} {
		if got := typeLabel(schemasType(in)); got != want {
			t.Errorf("typeLabel(%q) = %q, want %q", in, got, want)
		}
	}
}

func schemasType(s string) schemas.CommandType { return schemas.CommandType(s) }
