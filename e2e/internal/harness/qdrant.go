package harness

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"

	"github.com/qdrant/go-client/qdrant"
)

// NewQdrantClient connects the Qdrant go-client to the gRPC API at addr.
func NewQdrantClient(addr, apiKey string, useTLS bool) (*qdrant.Client, error) {
	host, portStr, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("parsing Qdrant gRPC address %q: %w", addr, err)
	}
	port, err := strconv.Atoi(portStr)
	if err != nil {
		return nil, fmt.Errorf("parsing Qdrant gRPC port %q: %w", portStr, err)
	}
	cfg := &qdrant.Config{
		Host:                   host,
		Port:                   port,
		APIKey:                 apiKey,
		UseTLS:                 useTLS,
		SkipCompatibilityCheck: true,
		PoolSize:               1,
	}
	if useTLS {
		cfg.TLSConfig = &tls.Config{MinVersion: tls.VersionTLS12}
	}
	c, err := qdrant.NewClient(cfg)
	if err != nil {
		return nil, fmt.Errorf("creating Qdrant client: %w", err)
	}
	return c, nil
}

// CreateCollection creates a collection of unnamed dense vectors of dim
// dimensions with cosine distance.
func CreateCollection(ctx context.Context, c *qdrant.Client, name string, dim int) error {
	err := c.CreateCollection(ctx, &qdrant.CreateCollection{
		CollectionName: name,
		VectorsConfig: qdrant.NewVectorsConfig(&qdrant.VectorParams{
			Size:     uint64(dim),
			Distance: qdrant.Distance_Cosine,
		}),
	})
	if err != nil {
		return fmt.Errorf("creating collection %s: %w", name, err)
	}
	return nil
}

// ReadPoints reads every point of a collection with its payload and vector,
// keyed by PointKey.
func ReadPoints(ctx context.Context, c *qdrant.Client, collection string) (map[string]Point, error) {
	limit := uint32(2000)
	it := c.ScrollAll(ctx, &qdrant.ScrollPoints{
		CollectionName: collection,
		Limit:          &limit,
		WithPayload:    qdrant.NewWithPayload(true),
		WithVectors:    qdrant.NewWithVectors(true),
	})
	out := make(map[string]Point)
	for {
		page, err := it.Next()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("scrolling %s: %w", collection, err)
		}
		for _, rp := range page {
			key := PointKey(rp.GetId())
			if _, dup := out[key]; dup {
				return nil, fmt.Errorf("scrolling %s: point %s returned twice", collection, key)
			}
			out[key] = Point{
				Vector:  rp.GetVectors().GetVector().GetDenseVector().GetData(),
				Payload: payloadToGo(rp.GetPayload()),
			}
		}
	}
}

// PointKey is the canonical string of a point id: the decimal number or the
// UUID.
func PointKey(id *qdrant.PointId) string {
	switch v := id.GetPointIdOptions().(type) {
	case *qdrant.PointId_Num:
		return strconv.FormatUint(v.Num, 10)
	case *qdrant.PointId_Uuid:
		return v.Uuid
	}
	return "<no id>"
}

func payloadToGo(m map[string]*qdrant.Value) map[string]any {
	if m == nil {
		return map[string]any{}
	}
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = valueToGo(v)
	}
	return out
}

// valueToGo converts a Qdrant payload value: integers stay int64, doubles
// are float64, objects are map[string]any and lists []any.
func valueToGo(v *qdrant.Value) any {
	switch k := v.GetKind().(type) {
	case *qdrant.Value_NullValue:
		return nil
	case *qdrant.Value_BoolValue:
		return k.BoolValue
	case *qdrant.Value_IntegerValue:
		return k.IntegerValue
	case *qdrant.Value_DoubleValue:
		return k.DoubleValue
	case *qdrant.Value_StringValue:
		return k.StringValue
	case *qdrant.Value_StructValue:
		return payloadToGo(k.StructValue.GetFields())
	case *qdrant.Value_ListValue:
		vals := k.ListValue.GetValues()
		out := make([]any, len(vals))
		for i, e := range vals {
			out[i] = valueToGo(e)
		}
		return out
	}
	return fmt.Sprintf("<unknown kind %T>", v.GetKind())
}
