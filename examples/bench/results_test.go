package bench_test

import (
	"strings"
	"testing"

	"github.com/jwksauth/jwksauth/examples/bench"
)

const sampleOutput = `goos: linux
goarch: amd64
pkg: github.com/jwksauth/jwksauth/examples/bench
BenchmarkFloor/rs256-2         	   38271	     30000 ns/op	    1376 B/op	       9 allocs/op
BenchmarkGin/bare-2            	 4852026	       250 ns/op	      48 B/op	       1 allocs/op
BenchmarkGin/jwksauth-2        	2026/11/27 13:29:25 INFO a log line that pushed the figures down
  471337	       800 ns/op	     752 B/op	       5 allocs/op
BenchmarkGin/jwksauth-nocache-2         	   20000	     33000 ns/op	    3360 B/op	      24 allocs/op
BenchmarkGin/auth0-2                    	   20000	     60000 ns/op	   11329 B/op	     152 allocs/op
BenchmarkGin/jwksauth-parallel-2        	   20000	       500 ns/op	         2.000 cpus	     752 B/op	       5 allocs/op
BenchmarkGin/jwksauth-nocache-parallel-2	   20000	     17000 ns/op	    3360 B/op	      24 allocs/op
BenchmarkGin/bare-parallel-2   	 4852026	       130 ns/op	      48 B/op	       1 allocs/op
PASS
BenchmarkFloor/rs256-2         	   38271	     40000 ns/op	    1376 B/op	       9 allocs/op
BenchmarkGin/bare-2            	 4852026	       260 ns/op	      48 B/op	       1 allocs/op
BenchmarkGin/jwksauth-2        	  471337	       850 ns/op	         1.000 cpus	     752 B/op	       5 allocs/op
BenchmarkGin/jwksauth-nocache-2         	   20000	     34000 ns/op	    3360 B/op	      24 allocs/op
BenchmarkGin/auth0-2                    	   20000	     62000 ns/op	   11329 B/op	     152 allocs/op
BenchmarkGin/jwksauth-parallel-2        	   20000	       520 ns/op	         1.600 cpus	     752 B/op	       5 allocs/op
BenchmarkGin/jwksauth-nocache-parallel-2	   20000	     30000 ns/op	    3360 B/op	      24 allocs/op
BenchmarkFloor/rs256-2         	   38271	     35000 ns/op	    1376 B/op	       9 allocs/op
pkg: github.com/jwksauth/jwksauth/core
BenchmarkCoreFloor-2           	   38271	     30000 ns/op	    1376 B/op	       9 allocs/op
BenchmarkCoreVerify/cache-2    	 1000000	       500 ns/op	       0 B/op	       0 allocs/op
BenchmarkCoreAuthorize/cache-2 	 1000000	       560 ns/op	       0 B/op	       0 allocs/op
BenchmarkCoreAuthorize/cache-parallel-2	 1000000	       290 ns/op	       0 B/op	       0 allocs/op
ok
`

func TestParseResults(t *testing.T) {
	rs, err := bench.ParseResults(strings.NewReader(sampleOutput))
	if err != nil {
		t.Fatal(err)
	}
	if len(rs) != 20 {
		t.Fatalf("%d samples, want 20", len(rs))
	}
	if got, want := rs[2], (bench.Sample{Name: "BenchmarkGin/jwksauth", NsPerOp: 800, BytesPerOp: 752, AllocsPerOp: 5}); got != want {
		t.Errorf("the sample split by a log line = %+v, want %+v", got, want)
	}
	want := []bench.Result{
		{Name: "BenchmarkFloor/rs256", Runs: 3, NsPerOp: 35000, BytesPerOp: 1376, AllocsPerOp: 9},
		{Name: "BenchmarkGin/bare", Runs: 2, NsPerOp: 255, BytesPerOp: 48, AllocsPerOp: 1},
		{Name: "BenchmarkGin/jwksauth", Runs: 2, NsPerOp: 825, BytesPerOp: 752, AllocsPerOp: 5, CPUs: 1},
		{Name: "BenchmarkGin/jwksauth-nocache", Runs: 2, NsPerOp: 33500, BytesPerOp: 3360, AllocsPerOp: 24},
		{Name: "BenchmarkGin/auth0", Runs: 2, NsPerOp: 61000, BytesPerOp: 11329, AllocsPerOp: 152},
		{Name: "BenchmarkGin/jwksauth-parallel", Runs: 2, NsPerOp: 510, BytesPerOp: 752, AllocsPerOp: 5, CPUs: 1.8},
		{Name: "BenchmarkGin/jwksauth-nocache-parallel", Runs: 2, NsPerOp: 23500, BytesPerOp: 3360, AllocsPerOp: 24},
		{Name: "BenchmarkGin/bare-parallel", Runs: 1, NsPerOp: 130, BytesPerOp: 48, AllocsPerOp: 1},
		{Name: "BenchmarkCoreFloor", Runs: 1, NsPerOp: 30000, BytesPerOp: 1376, AllocsPerOp: 9},
		{Name: "BenchmarkCoreVerify/cache", Runs: 1, NsPerOp: 500},
		{Name: "BenchmarkCoreAuthorize/cache", Runs: 1, NsPerOp: 560},
		{Name: "BenchmarkCoreAuthorize/cache-parallel", Runs: 1, NsPerOp: 290},
	}
	got := rs.Summary()
	if len(got) != len(want) {
		t.Fatalf("%d results, want %d: %+v", len(got), len(want), got)
	}
	for i, w := range want {
		if got[i] != w {
			t.Errorf("result %d = %+v, want %+v", i, got[i], w)
		}
	}
}

func TestReport(t *testing.T) {
	rs, err := bench.ParseResults(strings.NewReader(sampleOutput))
	if err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	missed, err := bench.Report(&out, rs)
	if err != nil {
		t.Fatal(err)
	}
	text := out.String()
	if strings.Contains(text, "below bare-parallel") {
		t.Errorf("a parallel row was taken for a peer:\n%s", text)
	}
	// The floor samples are 30000, 40000 and 35000 ns/op; each Gin sample
	// is divided by the floor sample just before it (30000 for the first
	// round, 40000 for the second), then the median is taken.
	for _, tc := range []struct {
		name, line string
	}{
		{"floor", "BenchmarkFloor/rs256: 35000 ns/op (median of 3)"},
		{"paired ratio in the table", "jwksauth-nocache                  33500     0.975"},
		{"nocache target met", "ok   jwksauth-nocache 0.975× floor (target ≤ 1.20×)"},
		{"allocs target met", "ok   jwksauth-nocache 24 allocs/op (target ≤ 40)"},
		{"peer beaten", "ok   jwksauth-nocache below auth0: 33500 < 61000 ns/op (1.82× faster)"},
		{"cache target met", "ok   jwksauth (cache hit) 0.0240× floor (target ≤ 0.03×), 42× faster than the floor"},
		{"parallel target missed", "MISS jwksauth-parallel throughput 1.62× serial (target ≥ 1.7×)"},
		{"CPUs given", "given 1.80 CPUs (serial 1.00); CPU time per request 0.98× serial's (1.00: no contention)"},
		{"parallel target missed too", "MISS jwksauth-nocache-parallel throughput 1.54× serial (target ≥ 1.7×)"},
		{"core hit allocations", "ok   CoreVerify/cache 0 allocs/op inside core (target 0)"},
		{"core ratio", "Verify/cache                        500     0.017"},
		{"core scaling", "ok   CoreAuthorize/cache-parallel throughput 1.93× serial (target ≥ 1.7×)"},
		{"framework scaling, no verdict", "info bare-parallel throughput 1.92× serial (the framework alone)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if !strings.Contains(text, tc.line) {
				t.Errorf("report lacks %q:\n%s", tc.line, text)
			}
		})
	}
	if missed != 2 {
		t.Errorf("missed = %d, want 2:\n%s", missed, text)
	}

	t.Run("no floor", func(t *testing.T) {
		var rest bench.Results
		for _, s := range rs {
			if s.Name != bench.FloorName {
				rest = append(rest, s)
			}
		}
		if _, err := bench.Report(&out, rest); err == nil {
			t.Fatal("a report without the floor must fail")
		}
	})
}

// TestReportHitFloor checks what the report says of a cache hit next to the
// hit-floor row: the least a hit costs, split into its parts, how far
// jwksauth is above it, and, when the floor of a hit is itself over the
// target, that the miss is out of reach rather than jwksauth's own.
func TestReportHitFloor(t *testing.T) {
	const output = `BenchmarkFloor/rs256-2         	   38271	     30000 ns/op	    1376 B/op	       9 allocs/op
BenchmarkHitParts/sha256-2     	 2000000	       430 ns/op	       0 B/op	       0 allocs/op
BenchmarkHitParts/clock-2      	20000000	        60 ns/op	       0 B/op	       0 allocs/op
BenchmarkGin/bare-2            	 4852026	       100 ns/op	      48 B/op	       1 allocs/op
BenchmarkGin/hit-floor-2       	  900000	      1200 ns/op	     752 B/op	       5 allocs/op
BenchmarkGin/jwksauth-2        	  900000	      1260 ns/op	     752 B/op	       5 allocs/op
BenchmarkGin/jwksauth-nocache-2	   30000	     33000 ns/op	    3360 B/op	      24 allocs/op
BenchmarkGin/hit-floor-parallel-2	 1000000	  960 ns/op	     752 B/op	       5 allocs/op
BenchmarkGin/jwksauth-parallel-2	 1000000	  1000 ns/op	     752 B/op	       5 allocs/op
`
	rs, err := bench.ParseResults(strings.NewReader(output))
	if err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	missed, err := bench.Report(&out, rs)
	if err != nil {
		t.Fatal(err)
	}
	text := out.String()
	for _, line := range []string{
		"MISS jwksauth (cache hit) 0.0420× floor (target ≤ 0.03×), 24× faster than the floor: out of reach here, hit-floor is 0.0400× already",
		"info hit-floor 0.0400× floor: the least a cache hit costs in Gin (hitfloor.go) = bare route 100 + SHA-256 of the token 430 + clock 60 + stores, their GC and the rest 610 ns",
		"jwksauth (cache hit) is 60 ns above it (+5.0%)",
		"info hit-floor-parallel throughput 1.25× serial (the least a cache hit does, in parallel)",
		"MISS jwksauth-parallel throughput 1.26× serial (target ≥ 1.7×): out of reach here, hit-floor-parallel scales 1.25×",
	} {
		if !strings.Contains(text, line) {
			t.Errorf("report lacks %q:\n%s", line, text)
		}
	}
	if strings.Contains(text, "below hit-floor") {
		t.Errorf("the hit-floor row was taken for a peer:\n%s", text)
	}
	if missed != 2 {
		t.Errorf("missed = %d, want 2 (the cache hit, serial and parallel):\n%s", missed, text)
	}
}
