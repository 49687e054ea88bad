package harness

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"time"
)

// mainPackage is the import path of the binary under test.
const mainPackage = "github.com/seed-a550a1ef/kafka-qdrant/cmd/kafka-qdrant"

// BuildBinary builds kafka-qdrant into dir and returns its path. With
// KQ_E2E_BINARY set it returns that path instead (after checking it runs).
func BuildBinary(ctx context.Context, dir string) (string, error) {
	if bin := os.Getenv("KQ_E2E_BINARY"); bin != "" {
		abs, err := filepath.Abs(bin)
		if err != nil {
			return "", fmt.Errorf("resolving KQ_E2E_BINARY: %w", err)
		}
		if _, err := os.Stat(abs); err != nil {
			return "", fmt.Errorf("KQ_E2E_BINARY: %w", err)
		}
		return abs, nil
	}
	bin := filepath.Join(dir, "kafka-qdrant")
	ctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, mainPackage)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("building %s: %w\n%s", mainPackage, err, out)
	}
	return bin, nil
}

// BinaryVersion returns the output of `kafka-qdrant version`.
func BinaryVersion(ctx context.Context, bin string) string {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, bin, "version").CombinedOutput()
	if err != nil {
		return fmt.Sprintf("(version: %v)", err)
	}
	return string(trimNewline(out))
}

func trimNewline(b []byte) []byte {
	for len(b) > 0 && (b[len(b)-1] == '\n' || b[len(b)-1] == '\r') {
		b = b[:len(b)-1]
	}
	return b
}
