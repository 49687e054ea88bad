package harness

import (
	"reflect"
	"testing"
)

func TestReplicaConfigSetGet(t *testing.T) {
	c := ReplicaConfig{}
	c.Set("kafka.brokers", []string{"a:1"})
	c.Set("kafka.group", "g")
	c.Set("qdrant.retry.max_backoff", "1s")
	c.Set("kafka.group", "g2") // overwrite
	tests := []struct {
		key  string
		want any
	}{
		{"kafka.brokers", []string{"a:1"}},
		{"kafka.group", "g2"},
		{"qdrant.retry.max_backoff", "1s"},
		{"qdrant.retry.initial_backoff", nil},
		{"missing.key", nil},
		{"kafka.group.deeper", nil},
	}
	for _, tc := range tests {
		if got := c.Get(tc.key); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("Get(%q) = %#v, want %#v", tc.key, got, tc.want)
		}
	}
}

func TestReadyAddrs(t *testing.T) {
	tests := []struct {
		name, line string
		want       []string
	}{
		{"one address", "ready 127.0.0.1:9092", []string{"127.0.0.1:9092"}},
		{"several", "ready 127.0.0.1:1 127.0.0.1:2", []string{"127.0.0.1:1", "127.0.0.1:2"}},
		{"comma list", "ready a:1,b:2", []string{"a:1", "b:2"}},
		{"no address: the default", "ready", []string{"def:1"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := readyAddrs(tc.line, "def:1"); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("readyAddrs(%q) = %q, want %q", tc.line, got, tc.want)
			}
		})
	}
}

func TestOffsets(t *testing.T) {
	o := Offsets{2: 5, 0: 1, 1: 0}
	if got := o.String(); got != "{0:1 1:0 2:5}" {
		t.Errorf("String() = %q", got)
	}
	if got := o.Total(); got != 6 {
		t.Errorf("Total() = %d, want 6", got)
	}
}

func TestDefaultREST(t *testing.T) {
	tests := []struct {
		grpc string
		tls  bool
		want string
	}{
		{"qdrant.example:6334", false, "http://qdrant.example:6333"},
		{"10.0.0.5:6334", true, "https://10.0.0.5:6333"},
		{"[::1]:6334", false, "http://[::1]:6333"},
	}
	for _, tc := range tests {
		if got := defaultREST(tc.grpc, tc.tls); got != tc.want {
			t.Errorf("defaultREST(%q, %v) = %q, want %q", tc.grpc, tc.tls, got, tc.want)
		}
	}
}
