//go:build !unix

package schemas

import "time"

// processCPU is not measured here.
func processCPU() time.Duration { return 0 }
