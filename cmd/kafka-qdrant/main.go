// Command kafka-qdrant keeps Qdrant collections in sync with Kafka topics.
// This file is wiring only: flags, config, signals, exit codes.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"
	"time"

	"github.com/seed-a550a1ef/kafka-qdrant/config"
	"github.com/seed-a550a1ef/kafka-qdrant/control/ctl"
	"github.com/seed-a550a1ef/kafka-qdrant/internal/app"
	"github.com/seed-a550a1ef/kafka-qdrant/internal/devenv"
	"github.com/seed-a550a1ef/kafka-qdrant/internal/logging"
	"github.com/seed-a550a1ef/kafka-qdrant/internal/qdrantmem"
	"github.com/seed-a550a1ef/kafka-qdrant/internal/validate"
)

var version = "dev"

const (
	exitOK      = 0
	exitRuntime = 1
	exitUsage   = 2
)

const usage = `kafka-qdrant keeps Qdrant collections in sync with Kafka topics.

Usage:
  kafka-qdrant run [--config FILE] [--set key=value ...]   run one replica
  kafka-qdrant dev [flags]                                 everything embedded, no infrastructure
  kafka-qdrant dev kafka --addr 127.0.0.1:9092 [--data-dir DIR]   only the embedded Kafka broker
  kafka-qdrant dev qdrant --grpc 127.0.0.1:6334 [--rest 127.0.0.1:6333] [--api-key KEY]   only the in-memory Qdrant
  kafka-qdrant ctl [--config FILE] [--set k=v] <command> [flags]   send a control command, follow its status
  kafka-qdrant validate [--offline] [--config FILE] [--set key=value ...]
                                   check the config, then reach Kafka, Qdrant and the backup store
                                   with its credentials (--offline: dial nothing)
  kafka-qdrant version

Exit codes: 0 ok, 1 runtime failure, 2 bad usage or invalid config.
`

func main() { os.Exit(run(os.Args[1:], os.Stdout, os.Stderr)) }

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return exitUsage
	}
	switch args[0] {
	case "run":
		return cmdRun(args[1:], stderr)
	case "dev":
		return cmdDev(args[1:], stdout, stderr)
	case "ctl":
		return cmdCtl(args[1:], stdout, stderr)
	case "validate":
		return cmdValidate(args[1:], stdout, stderr)
	case "version", "--version":
		fmt.Fprintf(stdout, "kafka-qdrant %s\n", version)
		return exitOK
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return exitOK
	}
	fmt.Fprintf(stderr, "kafka-qdrant: unknown command %q\n\n%s", args[0], usage)
	return exitUsage
}

// setFlags collects repeated --set key=value flags.
type setFlags []string

func (s *setFlags) String() string     { return fmt.Sprint(*s) }
func (s *setFlags) Set(v string) error { *s = append(*s, v); return nil }

// loadConfig parses --config/--set (and the flags extra adds) and loads the
// layered config.
func loadConfig(name string, args []string, stderr io.Writer, extra ...func(*flag.FlagSet)) (config.Config, *flag.FlagSet, int) {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	for _, f := range extra {
		f(fs)
	}
	path := fs.String("config", "", "YAML config file")
	var sets setFlags
	fs.Var(&sets, "set", "override a key: --set kafka.brokers=a:9092 (repeatable)")
	if err := fs.Parse(args); err != nil {
		return config.Config{}, fs, exitUsage
	}
	cfg, err := config.Load(*path, os.Environ(), sets)
	if err == nil {
		err = cfg.Validate()
	}
	if err != nil {
		fmt.Fprintf(stderr, "kafka-qdrant: invalid config:\n%v\n", err)
		return cfg, fs, exitUsage
	}
	return cfg, fs, exitOK
}

// signalContexts returns ctx, cancelled on the first SIGINT/SIGTERM, and
// hard, cancelled on the second.
func signalContexts() (ctx, hard context.Context, stop func()) {
	ctx, stopCtx := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	hard, cancelHard := context.WithCancel(context.Background())
	go func() {
		<-ctx.Done()
		c := make(chan os.Signal, 1)
		signal.Notify(c, os.Interrupt, syscall.SIGTERM)
		select {
		case <-c:
			cancelHard()
		case <-hard.Done():
		}
		signal.Stop(c)
	}()
	return ctx, hard, func() { stopCtx(); cancelHard() }
}

func cmdRun(args []string, stderr io.Writer) int {
	cfg, _, code := loadConfig("run", args, stderr)
	if code != exitOK {
		return code
	}
	log, err := logging.New(cfg.Log, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "kafka-qdrant: %v\n", err)
		return exitUsage
	}
	limitMemory(cfg, log)
	ctx, hard, stop := signalContexts()
	defer stop()
	if err := app.Run(ctx, hard, app.Options{Config: cfg, Logger: log}); err != nil {
		log.Error("kafka-qdrant failed", "err", err)
		return exitRuntime
	}
	return exitOK
}

// limitMemory makes the replica's memory budget (config.MemoryBudget) the
// Go runtime's soft memory limit, unless GOMEMLIMIT sets one: past the
// budget the garbage collector works harder instead of the heap doubling
// (GOGC), so a replica's memory follows its configuration whatever the
// backlog.
func limitMemory(cfg config.Config, log *slog.Logger) {
	if v, ok := os.LookupEnv("GOMEMLIMIT"); ok && v != "" {
		log.Info("memory limit from GOMEMLIMIT", "memory_limit", v, "memory_budget", cfg.MemoryBudget())
		return
	}
	debug.SetMemoryLimit(cfg.MemoryBudget())
	log.Info("memory limit from the configuration", "memory_limit", cfg.MemoryBudget())
}

func cmdDev(args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 && (args[0] == "kafka" || args[0] == "qdrant") {
		return cmdDevServer(args[0], args[1:], stdout, stderr)
	}
	o := devenv.DefaultOptions()
	fs := flag.NewFlagSet("dev", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.DataDir, "data-dir", o.DataDir, "where the embedded broker keeps its data")
	fs.StringVar(&o.KafkaAddr, "kafka-addr", o.KafkaAddr, "embedded Kafka listen address (127.0.0.1 only)")
	fs.StringVar(&o.QdrantGRPC, "qdrant-grpc", o.QdrantGRPC, "in-memory Qdrant gRPC listen address")
	fs.StringVar(&o.QdrantREST, "qdrant-rest", o.QdrantREST, "in-memory Qdrant REST listen address")
	fs.StringVar(&o.RegistryAddr, "schema-registry", o.RegistryAddr, "embedded Schema Registry listen address")
	fs.StringVar(&o.HTTPListen, "http", o.HTTPListen, "metrics and health listen address")
	fs.StringVar(&o.Topic, "topic", o.Topic, "data topic, also the collection name")
	fs.IntVar(&o.Partitions, "partitions", o.Partitions, "partitions of the data topic")
	fs.IntVar(&o.Dimension, "dimension", o.Dimension, "vector dimension of the collection")
	fs.StringVar(&o.LogLevel, "log-level", o.LogLevel, "debug, info, warn or error")
	if err := fs.Parse(args); err != nil {
		return exitUsage
	}
	if o.Partitions < 1 || o.Dimension < 1 || o.Topic == "" {
		fmt.Fprintln(stderr, "kafka-qdrant dev: --partitions and --dimension must be >= 1 and --topic non-empty")
		return exitUsage
	}
	log, err := logging.New(config.Log{Level: o.LogLevel, Format: "text"}, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "kafka-qdrant dev: %v\n", err)
		return exitUsage
	}
	ctx, hard, stop := signalContexts()
	defer stop()
	if err := devenv.Run(ctx, hard, o, log, stdout); err != nil {
		log.Error("kafka-qdrant dev failed", "err", err)
		return exitRuntime
	}
	return exitOK
}

// cmdDevServer runs only one embedded server, for tests that want each in
// its own process. It prints "ready <addrs>" once serving.
func cmdDevServer(which string, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("dev "+which, flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", "127.0.0.1:9092", "kafka: listen address")
	dataDir := fs.String("data-dir", "", "kafka: data directory (empty: in memory)")
	grpcAddr := fs.String("grpc", "127.0.0.1:6334", "qdrant: gRPC listen address")
	restAddr := fs.String("rest", "", "qdrant: REST listen address (empty: none)")
	apiKey := fs.String("api-key", "", "qdrant: require this API key, as Qdrant's service.api_key does (empty: none)")
	if err := fs.Parse(args); err != nil {
		return exitUsage
	}
	ctx, _, stop := signalContexts()
	defer stop()
	switch which {
	case "kafka":
		c, err := devenv.StartKafka(*addr, *dataDir, nil)
		if err != nil {
			fmt.Fprintf(stderr, "kafka-qdrant dev kafka: %v\n", err)
			return exitRuntime
		}
		defer c.Close()
		fmt.Fprintf(stdout, "ready %s\n", c.ListenAddrs()[0])
	case "qdrant":
		s, g, r, err := devenv.StartQdrant(*grpcAddr, *restAddr, qdrantmem.WithAPIKey(*apiKey))
		if err != nil {
			fmt.Fprintf(stderr, "kafka-qdrant dev qdrant: %v\n", err)
			return exitRuntime
		}
		defer s.Stop()
		fmt.Fprintf(stdout, "ready %s %s\n", g, r)
	}
	<-ctx.Done()
	return exitOK
}

func cmdValidate(args []string, stdout, stderr io.Writer) int {
	var offline bool
	cfg, _, code := loadConfig("validate", args, stderr, func(fs *flag.FlagSet) {
		fs.BoolVar(&offline, "offline", false, "check the config without dialing Kafka, Qdrant or the backup store")
	})
	if code != exitOK {
		return code
	}
	if offline {
		if err := validate.Offline(cfg, stdout); err != nil {
			fmt.Fprintf(stderr, "kafka-qdrant validate: %v\n", err)
			return exitUsage
		}
		return exitOK
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	if err := validate.Check(ctx, cfg, stdout, log); err != nil {
		fmt.Fprintf(stderr, "kafka-qdrant validate: %v\n", err)
		return exitRuntime
	}
	return exitOK
}

// cmdCtl loads the config (for brokers and topics) from --config/--set
// given before the ctl subcommand, then hands over to control/ctl.
func cmdCtl(args []string, stdout, stderr io.Writer) int {
	var cfgArgs []string
	for len(args) > 0 && (args[0] == "--config" || args[0] == "--set") && len(args) > 1 {
		cfgArgs, args = append(cfgArgs, args[0], args[1]), args[2:]
	}
	cfg, _, code := loadConfig("ctl", cfgArgs, stderr)
	if code != exitOK {
		return code
	}
	ctx, _, stop := signalContexts()
	defer stop()
	return ctl.Main(ctx, args, cfg, stdout, stderr)
}
