//go:build !docker

package harness

import (
	"context"
	"errors"
	"os"
)

// errNoDocker says how to get the Docker environment.
var errNoDocker = errors.New("the Docker environment needs the e2e suite built with -tags docker")

// dockerWanted: without the docker build tag, Docker is used only when
// asked for (KQ_E2E_DOCKER=1), which is then an error that says how to
// build it; a reachable engine is otherwise ignored.
func dockerWanted() (bool, error) {
	if os.Getenv("KQ_E2E_DOCKER") == "1" {
		return false, errNoDocker
	}
	return false, nil
}

func dockerKafka(context.Context) (string, func(), error) { return "", nil, errNoDocker }

func dockerQdrant(context.Context) (string, string, func(), error) {
	return "", "", nil, errNoDocker
}

func dockerS3(context.Context) (*S3Env, func(), error) { return nil, nil, errNoDocker }
