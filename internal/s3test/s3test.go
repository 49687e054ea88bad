// Package s3test gives tests a real S3 server: the one the e2e
// environment names (KQ_E2E_S3_ENDPOINT and friends, as scripts/e2e.sh
// exports them), else a versitygw started with scripts/s3.sh (installed
// into the cache on first use) for the test binary and stopped by Main.
// Tests that use it run against a real S3 implementation, never a mock.
package s3test

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// Server is an S3 endpoint with static credentials.
type Server struct {
	Endpoint, AccessKey, SecretKey, Region string
}

var (
	once    sync.Once
	srv     Server
	srvErr  error
	runDir  string
	started bool
)

// Start returns the S3 server of this test binary, starting it on first
// use. It fails the test when no server can be had.
func Start(t testing.TB) Server {
	t.Helper()
	once.Do(func() { srv, srvErr = start() })
	if srvErr != nil {
		t.Fatalf("no S3 server for the test: %v", srvErr)
	}
	return srv
}

func start() (Server, error) {
	if ep := os.Getenv("KQ_E2E_S3_ENDPOINT"); ep != "" {
		region := os.Getenv("KQ_E2E_S3_REGION")
		if region == "" {
			region = "us-east-1"
		}
		return Server{Endpoint: ep, AccessKey: os.Getenv("KQ_E2E_S3_ACCESS_KEY"), SecretKey: os.Getenv("KQ_E2E_S3_SECRET_KEY"), Region: region}, nil
	}
	script, err := findScript()
	if err != nil {
		return Server{}, err
	}
	runDir, err = os.MkdirTemp("", "kq-s3test-")
	if err != nil {
		return Server{}, err
	}
	cmd := exec.Command(script, "start")
	cmd.Env = append(os.Environ(), "KQ_S3_RUN_DIR="+runDir)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return Server{}, fmt.Errorf("%s start: %v\n%s", script, err, stderr.String())
	}
	started = true
	var s Server
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		k, v, _ := strings.Cut(sc.Text(), "=")
		switch k {
		case "KQ_E2E_S3_ENDPOINT":
			s.Endpoint = v
		case "KQ_E2E_S3_ACCESS_KEY":
			s.AccessKey = v
		case "KQ_E2E_S3_SECRET_KEY":
			s.SecretKey = v
		case "KQ_E2E_S3_REGION":
			s.Region = v
		}
	}
	if s.Endpoint == "" {
		return Server{}, fmt.Errorf("%s start printed no endpoint:\n%s", script, out)
	}
	return s, nil
}

// findScript finds scripts/s3.sh in the module root above the working
// directory (a test runs in its package directory).
func findScript() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		p := filepath.Join(dir, "scripts", "s3.sh")
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			if _, err := os.Stat(p); err != nil {
				return "", fmt.Errorf("module root %s has no scripts/s3.sh", dir)
			}
			return p, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("scripts/s3.sh not found above the working directory")
		}
		dir = parent
	}
}

// Main runs the tests and stops the server Start started, if any. Call
// it from TestMain: os.Exit(s3test.Main(m)).
func Main(m *testing.M) int {
	code := m.Run()
	if started {
		if script, err := findScript(); err == nil {
			cmd := exec.Command(script, "stop")
			cmd.Env = append(os.Environ(), "KQ_S3_RUN_DIR="+runDir)
			_ = cmd.Run()
		}
		_ = os.RemoveAll(runDir)
	}
	return code
}
