package e2e

import (
	"context"
	"flag"
	"fmt"
	"os"
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

// testContext bounds a scenario.
func testContext(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), d)
	t.Cleanup(cancel)
	return ctx
}
