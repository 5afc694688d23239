// Command ratios reads `go test -bench -benchmem` output on standard input
// (any number of runs) and prints, per framework, each row's median and its
// ratio to BenchmarkFloor/rs256 from the same input, with the verdict on
// each performance target. It is the last step of `make bench`.
//
// With -check it exits 1 when a target is missed (the default only reports:
// on a shared machine one noisy run should not fail a build).
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/jwksauth/jwksauth/examples/bench"
)

func main() {
	check := flag.Bool("check", false, "exit 1 when a target is missed")
	flag.Parse()
	results, err := bench.ParseResults(os.Stdin)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	missed, err := bench.Report(os.Stdout, results)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	if missed > 0 {
		fmt.Printf("\n%d target(s) missed\n", missed)
		if *check {
			os.Exit(1)
		}
	}
}
