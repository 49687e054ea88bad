package e2e

import (
	"context"
	"flag"
	"fmt"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/seed-a550a1ef/kafka-qdrant/e2e/internal/harness"
)

// env is the run's environment; nil in -short mode.
var env *harness.Env

func TestMain(m *testing.M) {
	flag.Parse()
	os.Exit(runMain(m))
}

func runMain(m *testing.M) int {
	if testing.Short() {
		fmt.Println("e2e: -short: the end-to-end scenarios are skipped")
		return m.Run()
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	var err error
	env, err = harness.Setup(ctx)
	cancel()
	if err != nil {
		fmt.Fprintf(os.Stderr, "e2e: setting up the environment: %v\n", err)
		return 1
	}
	fmt.Print(env.Describe())
	code := m.Run()
	env.Close()
	if code == 0 && os.Getenv("KQ_E2E_KEEP_LOGS") != "1" {
		os.RemoveAll(env.LogDir)
	} else {
		fmt.Printf("e2e: logs kept in %s\n", env.LogDir)
	}
	return code
}

// scenario starts a test's scenario, or skips the test in -short mode. The
// test runs in parallel with the others.
func scenario(t *testing.T, opt harness.ScenarioOptions) *harness.Scenario {
	t.Helper()
	if env == nil {
		t.Skip("e2e scenarios need the environment (not in -short mode)")
	}
	t.Parallel()
	return env.NewScenario(t, opt)
}

// benchSize starts a benchmark on the environment (skipped in -short
// mode) and returns its size: the positive integer in the environment
// variable name, else def.
func benchSize(b *testing.B, name string, def int) int {
	b.Helper()
	if env == nil {
		b.Skip("needs the e2e environment")
	}
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}

// testContext bounds a scenario.
func testContext(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), d)
	t.Cleanup(cancel)
	return ctx
}
