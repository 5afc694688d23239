package bench

import (
	"bufio"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
)

// Result is one benchmark's median figures over the runs of a `go test
// -bench` output.
type Result struct {
	// Name is the benchmark's full name without the -GOMAXPROCS suffix,
	// such as "BenchmarkGin/jwksauth-nocache".
	Name string
	// Runs is the number of result lines read for it.
	Runs int
	// NsPerOp, BytesPerOp and AllocsPerOp are medians (0 when not reported).
	NsPerOp, BytesPerOp, AllocsPerOp float64
	// CPUs is the median of the "cpus" metric (process CPU time over wall
	// time while the benchmark ran; 0 when not reported): how much of the
	// machine the row was given.
	CPUs float64
}

// CPUNsPerOp is the CPU time one operation cost (NsPerOp × CPUs), which
// other load on the machine inflates less than NsPerOp; 0 without CPUs.
func (r Result) CPUNsPerOp() float64 { return r.NsPerOp * r.CPUs }

// ParseResults reads `go test -bench -benchmem` output (any number of
// runs, from any number of packages; lines that are not results are
// skipped) and returns each benchmark's medians, in order of first
// appearance.
func ParseResults(r io.Reader) ([]Result, error) {
	type samples struct{ ns, bytes, allocs, cpus []float64 }
	var order []string
	all := map[string]*samples{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	pending := "" // a benchmark name whose figures a log line pushed to a later line
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) > 0 && strings.HasPrefix(f[0], "Benchmark") {
			if len(f) < 2 || !isCount(f[1]) {
				pending = f[0] // "BenchmarkX-2 <log output>": figures follow
				continue
			}
			pending = ""
		} else if pending != "" && len(f) >= 3 && isCount(f[0]) {
			f = append([]string{pending}, f...)
			pending = ""
		} else {
			continue
		}
		if len(f) < 4 {
			continue
		}
		name := trimProcs(f[0])
		s := all[name]
		if s == nil {
			s = &samples{}
			all[name] = s
			order = append(order, name)
		}
		for i := 2; i+1 < len(f); i += 2 {
			v, err := strconv.ParseFloat(f[i], 64)
			if err != nil {
				return nil, fmt.Errorf("bench: %q: value %q: %w", f[0], f[i], err)
			}
			switch f[i+1] {
			case "ns/op":
				s.ns = append(s.ns, v)
			case "B/op":
				s.bytes = append(s.bytes, v)
			case "allocs/op":
				s.allocs = append(s.allocs, v)
			case "cpus":
				s.cpus = append(s.cpus, v)
			}
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	out := make([]Result, 0, len(order))
	for _, name := range order {
		s := all[name]
		out = append(out, Result{Name: name, Runs: len(s.ns), NsPerOp: median(s.ns), BytesPerOp: median(s.bytes), AllocsPerOp: median(s.allocs), CPUs: median(s.cpus)})
	}
	return out, nil
}

// isCount reports whether s is an iteration count.
func isCount(s string) bool {
	_, err := strconv.ParseUint(s, 10, 64)
	return err == nil
}

// trimProcs drops the "-N" that go test appends to a benchmark name when
// GOMAXPROCS is not 1.
func trimProcs(name string) string {
	i := strings.LastIndexByte(name, '-')
	if i < 0 {
		return name
	}
	if _, err := strconv.Atoi(name[i+1:]); err != nil {
		return name
	}
	return name[:i]
}

func median(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	v = slices.Sorted(slices.Values(v))
	if n := len(v); n%2 == 1 {
		return v[n/2]
	}
	return (v[len(v)/2-1] + v[len(v)/2]) / 2
}

// The targets of issue #7.
const (
	// TargetNoCache is the most jwksauth-nocache may cost, as a ratio to the floor.
	TargetNoCache = 1.20
	// TargetCache is the most jwksauth (a cache hit) may cost, as a ratio to the floor.
	TargetCache = 0.03
	// TargetAllocs is the most allocations jwksauth-nocache may make per request.
	TargetAllocs = 40
	// TargetParallel is the least throughput gain of the parallel rows over
	// the serial ones (2 cores).
	TargetParallel = 1.7
)

// FloorName is the benchmark every ratio divides by.
const FloorName = "BenchmarkFloor/rs256"

// Frameworks are the benchmarks whose rows Report compares with the floor.
var Frameworks = []string{"BenchmarkGin", "BenchmarkEcho", "BenchmarkFiber"}

// Report writes, per framework, each row's median ns/op, its ratio to the
// floor, its B/op and allocs/op, and the targets of issue #7 with a
// verdict each. It returns how many targets were missed. Rows named
// "<row>-parallel" are compared with "<row>": throughput gained.
func Report(w io.Writer, results []Result) (missed int, err error) {
	byName := map[string]Result{}
	for _, r := range results {
		byName[r.Name] = r
	}
	floor, ok := byName[FloorName]
	if !ok || floor.NsPerOp == 0 {
		return 0, fmt.Errorf("bench: no %s in the results", FloorName)
	}
	p := &printer{w: w}
	p.printf("%s: %.0f ns/op (median of %d)\n", FloorName, floor.NsPerOp, floor.Runs)
	// cpuRatio is r's CPU time per operation over the floor's, when measured.
	cpuRatio := func(r Result) string {
		if r.CPUs == 0 || floor.CPUs == 0 {
			return ""
		}
		return fmt.Sprintf("; CPU time %.3f×", r.CPUNsPerOp()/floor.CPUNsPerOp())
	}
	verdict := func(ok bool, format string, args ...any) {
		mark := "ok  "
		if !ok {
			mark = "MISS"
			missed++
		}
		p.printf("  %s "+format+"\n", append([]any{mark}, args...)...)
	}
	for _, fw := range Frameworks {
		var rows []Result
		for _, r := range results {
			if strings.HasPrefix(r.Name, fw+"/") {
				rows = append(rows, r)
			}
		}
		if len(rows) == 0 {
			continue
		}
		p.printf("\n%s\n  %-26s %12s %9s %9s %10s %6s\n", fw, "row", "ns/op", "× floor", "B/op", "allocs/op", "cpus")
		for _, r := range rows {
			p.printf("  %-26s %12.0f %9.3f %9.0f %10.0f %6.2f\n", strings.TrimPrefix(r.Name, fw+"/"), r.NsPerOp, r.NsPerOp/floor.NsPerOp, r.BytesPerOp, r.AllocsPerOp, r.CPUs)
		}
		row := func(name string) (Result, bool) { r, ok := byName[fw+"/"+name]; return r, ok && r.NsPerOp > 0 }
		if nc, ok := row("jwksauth-nocache"); ok {
			ratio := nc.NsPerOp / floor.NsPerOp
			verdict(ratio <= TargetNoCache, "jwksauth-nocache %.3f× floor (target ≤ %.2f×%s)", ratio, TargetNoCache, cpuRatio(nc))
			verdict(nc.AllocsPerOp <= TargetAllocs, "jwksauth-nocache %.0f allocs/op (target ≤ %d)", nc.AllocsPerOp, TargetAllocs)
			for _, r := range rows {
				name := strings.TrimPrefix(r.Name, fw+"/")
				if name == "bare" || strings.HasPrefix(name, "jwksauth") {
					continue
				}
				verdict(nc.NsPerOp < r.NsPerOp, "jwksauth-nocache below %s: %.0f < %.0f ns/op (%.2f× faster)", name, nc.NsPerOp, r.NsPerOp, r.NsPerOp/nc.NsPerOp)
			}
		}
		if c, ok := row("jwksauth"); ok {
			ratio := c.NsPerOp / floor.NsPerOp
			verdict(ratio <= TargetCache, "jwksauth (cache hit) %.4f× floor (target ≤ %.2f×%s), %.0f× faster than the floor", ratio, TargetCache, cpuRatio(c), floor.NsPerOp/c.NsPerOp)
		}
		for _, name := range []string{"jwksauth", "jwksauth-nocache"} {
			serial, ok1 := row(name)
			par, ok2 := row(name + "-parallel")
			if ok1 && ok2 {
				gain := serial.NsPerOp / par.NsPerOp
				verdict(gain >= TargetParallel, "%s-parallel throughput %.2f× serial (target ≥ %.1f×)", name, gain, TargetParallel)
				if serial.CPUs > 0 && par.CPUs > 0 {
					// Contention shows as CPU time per request rising with
					// parallelism; a busy machine shows as few CPUs given.
					p.printf("       given %.2f CPUs (serial %.2f); CPU time per request %.2f× serial's (1.00: no contention)\n",
						par.CPUs, serial.CPUs, par.CPUNsPerOp()/serial.CPUNsPerOp())
				}
			}
		}
	}
	if cf, ok := byName[coreFloorName]; ok && cf.NsPerOp > 0 {
		p.printf("\ncore (ratios to %s, %.0f ns/op)\n  %-26s %12s %9s %9s %10s\n", coreFloorName, cf.NsPerOp, "row", "ns/op", "× floor", "B/op", "allocs/op")
		for _, r := range results {
			if name, ok := strings.CutPrefix(r.Name, "BenchmarkCore"); ok && r.Name != coreFloorName {
				p.printf("  %-26s %12.0f %9.3f %9.0f %10.0f\n", name, r.NsPerOp, r.NsPerOp/cf.NsPerOp, r.BytesPerOp, r.AllocsPerOp)
			}
		}
		for _, name := range []string{"BenchmarkCoreVerify/cache", "BenchmarkCoreAuthorize/cache"} {
			if r, ok := byName[name]; ok {
				verdict(r.AllocsPerOp == 0, "%s %.0f allocs/op inside core (target 0)", strings.TrimPrefix(name, "Benchmark"), r.AllocsPerOp)
			}
		}
	}
	return missed, p.err
}

// coreFloorName is core's own floor benchmark (core/bench_test.go).
const coreFloorName = "BenchmarkCoreFloor"

// printer keeps the first write error.
type printer struct {
	w   io.Writer
	err error
}

func (p *printer) printf(format string, args ...any) {
	if p.err == nil {
		_, p.err = fmt.Fprintf(p.w, format, args...)
	}
}
