package harness

import (
	"os"
	"testing"

	"github.com/seed-a550a1ef/kafka-qdrant/internal/s3test"
)

func TestMain(m *testing.M) { os.Exit(s3test.Main(m)) }
