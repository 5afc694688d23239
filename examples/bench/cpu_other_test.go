//go:build !unix

package bench_test

import "time"

// cpuTime is not measured here: no "cpus" metric is reported.
func cpuTime() time.Duration { return 0 }
