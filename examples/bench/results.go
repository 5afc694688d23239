package bench

import (
	"bufio"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
)

// Sample is one result line of `go test -bench -benchmem` output.
type Sample struct {
	// Name is the benchmark's full name without the -GOMAXPROCS suffix,
	// such as "BenchmarkGin/jwksauth-nocache".
	Name string
	// NsPerOp, BytesPerOp and AllocsPerOp are as reported (0 when not).
	NsPerOp, BytesPerOp, AllocsPerOp float64
	// CPUs is the "cpus" metric: process CPU time over wall time while the
	// benchmark ran, that is how much of the machine the row was given
	// (0 when not reported).
	CPUs float64
}

// CPUNsPerOp is the CPU time one operation cost (NsPerOp × CPUs), which
// other load on the machine inflates less than NsPerOp; 0 without CPUs.
func (s Sample) CPUNsPerOp() float64 { return s.NsPerOp * s.CPUs }

// Results are the samples of one or more `go test -bench` outputs, in the
// order they were measured.
type Results []Sample

// Result is one benchmark's median figures over its samples.
type Result struct {
	Name string
	Runs int
	// NsPerOp, BytesPerOp, AllocsPerOp and CPUs are medians.
	NsPerOp, BytesPerOp, AllocsPerOp, CPUs float64
}

// ParseResults reads `go test -bench -benchmem` output (any number of
// runs, from any number of packages) and returns its samples in order.
// Lines that are not results are skipped, and a result line that a
// benchmark's own log output split in two is joined again.
func ParseResults(r io.Reader) (Results, error) {
	var out Results
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	pending := "" // a benchmark name whose figures a log line pushed to a later line
	for sc.Scan() {
		var f []string
		if f, pending = resultFields(strings.Fields(sc.Text()), pending); f == nil {
			continue
		}
		if s, ok := parseSample(f); ok && s.NsPerOp > 0 {
			out = append(out, s)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	return out, nil
}

// resultFields returns the fields of a result line (nil for any other
// line) and the benchmark name still waiting for its figures: a line
// "BenchmarkX-2 <log output>" is followed, later, by the figures alone.
func resultFields(f []string, pending string) ([]string, string) {
	switch {
	case len(f) > 0 && strings.HasPrefix(f[0], "Benchmark"):
		if len(f) < 2 || !isCount(f[1]) {
			return nil, f[0] // the figures follow
		}
		return f, ""
	case pending != "" && len(f) >= 3 && isCount(f[0]):
		return append([]string{pending}, f...), ""
	}
	return nil, pending
}

// parseSample reads the figures of one result line; ok is false when the
// line is not a result after all.
func parseSample(f []string) (s Sample, ok bool) {
	s = Sample{Name: trimProcs(f[0])}
	for i := 2; i+1 < len(f); i += 2 {
		v, err := strconv.ParseFloat(f[i], 64)
		if err != nil {
			return s, false
		}
		switch f[i+1] {
		case "ns/op":
			s.NsPerOp = v
		case "B/op":
			s.BytesPerOp = v
		case "allocs/op":
			s.AllocsPerOp = v
		case "cpus":
			s.CPUs = v
		}
	}
	return s, true
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

// Summary returns each benchmark's medians, in order of first appearance.
func (rs Results) Summary() []Result {
	var order []string
	by := map[string][]Sample{}
	for _, s := range rs {
		if _, ok := by[s.Name]; !ok {
			order = append(order, s.Name)
		}
		by[s.Name] = append(by[s.Name], s)
	}
	out := make([]Result, 0, len(order))
	for _, name := range order {
		ss := by[name]
		// m is the median of f over the samples that reported it.
		m := func(f func(Sample) float64) float64 {
			var v []float64
			for _, s := range ss {
				if x := f(s); x != 0 {
					v = append(v, x)
				}
			}
			return median(v)
		}
		out = append(out, Result{
			Name: name, Runs: len(ss),
			NsPerOp:     m(func(s Sample) float64 { return s.NsPerOp }),
			BytesPerOp:  m(func(s Sample) float64 { return s.BytesPerOp }),
			AllocsPerOp: m(func(s Sample) float64 { return s.AllocsPerOp }),
			CPUs:        m(func(s Sample) float64 { return s.CPUs }),
		})
	}
	return out
}

// Paired returns the median, over the samples of name, of f(sample, base)
// where base is the sample of baseName measured last before it (or, for
// samples measured before any, the first one after). Pairing each sample
// with a baseline taken seconds earlier keeps load that comes and goes on a
// shared machine out of the ratio, as far as it can be. n is the number of
// pairs; f may refuse a pair by returning ok false.
func (rs Results) Paired(name, baseName string, f func(x, base Sample) (float64, bool)) (ratio float64, n int) {
	var first *Sample
	for i := range rs {
		if rs[i].Name == baseName {
			first = &rs[i]
			break
		}
	}
	if first == nil {
		return 0, 0
	}
	var v []float64
	last := first
	for i := range rs {
		switch rs[i].Name {
		case baseName:
			last = &rs[i]
		case name:
			if r, ok := f(rs[i], *last); ok {
				v = append(v, r)
			}
		}
	}
	return median(v), len(v)
}

// wallRatio is x's ns/op over base's.
func wallRatio(x, base Sample) (float64, bool) { return x.NsPerOp / base.NsPerOp, true }

// cpuRatio is x's CPU time per operation over base's, when both were measured.
func cpuRatio(x, base Sample) (float64, bool) {
	if x.CPUs == 0 || base.CPUs == 0 {
		return 0, false
	}
	return x.CPUNsPerOp() / base.CPUNsPerOp(), true
}

// gain is the throughput of x over base's: base's ns/op over x's.
func gain(x, base Sample) (float64, bool) { return base.NsPerOp / x.NsPerOp, true }

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

// The performance targets (README.md, "Compared with other Go libraries").
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
	// TargetDPoPNoCache is the most jwksauth-dpop-nocache may cost, as a
	// ratio to FloorDPoPName (the token's and the proof's signatures).
	TargetDPoPNoCache = 1.20
	// TargetDPoPCache is the most jwksauth-dpop (token cache hit, proof
	// verified) may cost, as a ratio to FloorProofName (the proof's
	// signature alone).
	TargetDPoPCache = 1.15
	// TargetIssuers is the most jwksauth-3issuers (a token of the third of
	// three issuers) may cost, as a ratio to the single-issuer jwksauth row.
	TargetIssuers = 1.03
)

// The floors of the DPoP rows.
const (
	FloorDPoPName  = "BenchmarkFloor/rs256+es256"
	FloorProofName = "BenchmarkFloor/es256"
)

// FloorName is the benchmark every framework row is compared with.
const FloorName = "BenchmarkFloor/rs256"

// coreFloorName is core's own floor benchmark (core/bench_test.go).
const coreFloorName = "BenchmarkCoreFloor"

// Frameworks are the benchmarks whose rows Report compares with the floor.
var Frameworks = []string{"BenchmarkGin", "BenchmarkEcho", "BenchmarkFiber"}

// Report writes, per framework, each row's median ns/op, B/op, allocs/op
// and CPUs given, its ratio to the floor (the median of its samples each
// over the floor sample measured just before it), and the performance
// targets with a verdict each; then core's own rows against core's floor. It
// returns how many targets were missed. A row "<row>-parallel" is compared
// with "<row>" for the throughput gained.
func Report(w io.Writer, rs Results) (missed int, err error) {
	summary := rs.Summary()
	byName := map[string]Result{}
	for _, r := range summary {
		byName[r.Name] = r
	}
	floor, ok := byName[FloorName]
	if !ok {
		return 0, fmt.Errorf("bench: no %s in the results", FloorName)
	}
	rp := &report{p: &printer{w: w}, rs: rs, byName: byName}
	rp.p.printf("%s: %.0f ns/op (median of %d). Ratios: median of each sample over the floor sample measured just before it.\n",
		FloorName, floor.NsPerOp, floor.Runs)
	for _, fw := range Frameworks {
		var rows []Result
		for _, r := range summary {
			if strings.HasPrefix(r.Name, fw+"/") {
				rows = append(rows, r)
			}
		}
		if len(rows) == 0 {
			continue
		}
		rp.table(fw, fw+"/", FloorName, rows)
		rp.noCacheTargets(fw, rows)
		rp.cacheTargets(fw)
		rp.parallelTargets(fw)
		rp.dpopTargets(fw)
		rp.issuersTargets(fw)
	}
	rp.coreRows(summary)
	return rp.missed, rp.p.err
}

// report is one run of Report.
type report struct {
	p      *printer
	rs     Results
	byName map[string]Result
	missed int
}

// verdict prints one target's outcome and counts a miss.
func (rp *report) verdict(ok bool, format string, args ...any) {
	mark := "ok  "
	if !ok {
		mark = "MISS"
		rp.missed++
	}
	rp.p.printf("  %s "+format+"\n", append([]any{mark}, args...)...)
}

// cpuNote is the CPU-time ratio of name to base, for a verdict line.
func (rp *report) cpuNote(name, base string) string {
	if r, n := rp.rs.Paired(name, base, cpuRatio); n > 0 {
		return fmt.Sprintf("; in CPU time %.3f×", r)
	}
	return ""
}

// table prints rows with their ratios to base.
func (rp *report) table(title, prefix, base string, rows []Result) {
	rp.p.printf("\n%s\n  %-26s %12s %9s %9s %10s %6s\n", title, "row", "ns/op", "× floor", "B/op", "allocs/op", "cpus")
	for _, r := range rows {
		ratio, _ := rp.rs.Paired(r.Name, base, wallRatio)
		rp.p.printf("  %-26s %12.0f %9.3f %9.0f %10.0f %6.2f\n", strings.TrimPrefix(r.Name, prefix), r.NsPerOp, ratio, r.BytesPerOp, r.AllocsPerOp, r.CPUs)
	}
}

// noCacheTargets judges framework fw's jwksauth-nocache row: its ratio to
// the floor, its allocations, and each peer row it must be below.
func (rp *report) noCacheTargets(fw string, rows []Result) {
	nc, ok := rp.byName[fw+"/jwksauth-nocache"]
	if !ok {
		return
	}
	ratio, _ := rp.rs.Paired(nc.Name, FloorName, wallRatio)
	rp.verdict(ratio <= TargetNoCache, "jwksauth-nocache %.3f× floor (target ≤ %.2f×%s)", ratio, TargetNoCache, rp.cpuNote(nc.Name, FloorName))
	rp.verdict(nc.AllocsPerOp <= TargetAllocs, "jwksauth-nocache %.0f allocs/op (target ≤ %d)", nc.AllocsPerOp, TargetAllocs)
	for _, r := range rows {
		row := strings.TrimPrefix(r.Name, fw+"/")
		if row == "bare" || row == HitFloor || strings.HasPrefix(row, "jwksauth") || strings.HasSuffix(row, "-parallel") {
			continue // not a peer
		}
		rp.verdict(nc.NsPerOp < r.NsPerOp, "jwksauth-nocache below %s: %.0f < %.0f ns/op (%.2f× faster)", row, nc.NsPerOp, r.NsPerOp, r.NsPerOp/nc.NsPerOp)
	}
}

// cacheTargets judges framework fw's jwksauth row (cache hits) against the
// floor, and shows it beside the hit floor.
func (rp *report) cacheTargets(fw string) {
	name := func(row string) string { return fw + "/" + row }
	c, ok := rp.byName[name("jwksauth")]
	if !ok {
		return
	}
	ratio, _ := rp.rs.Paired(c.Name, FloorName, wallRatio)
	least, haveLeast := rp.rs.Paired(name(HitFloor), FloorName, wallRatio)
	why := ""
	if haveLeast > 0 && least > TargetCache {
		why = fmt.Sprintf(": out of reach here, %s is %.4f× already", HitFloor, least)
	}
	rp.verdict(ratio <= TargetCache, "jwksauth (cache hit) %.4f× floor (target ≤ %.2f×%s), %.0f× faster than the floor%s",
		ratio, TargetCache, rp.cpuNote(c.Name, FloorName), 1/ratio, why)
	if hf, ok := rp.byName[name(HitFloor)]; ok {
		rp.p.printf("  info %s %.4f× floor: the least a cache hit costs in %s (hitfloor.go)%s\n",
			HitFloor, least, strings.TrimPrefix(fw, "Benchmark"), hitParts(rp.byName, rp.byName[name("bare")], hf))
		rp.p.printf("       jwksauth (cache hit) is %.0f ns above it (+%.1f%%): its own cache lookup, extraction and checks\n",
			c.NsPerOp-hf.NsPerOp, 100*(c.NsPerOp-hf.NsPerOp)/hf.NsPerOp)
	}
}

// parallelTargets judges the throughput framework fw's parallel rows gain
// over their serial rows.
func (rp *report) parallelTargets(fw string) {
	name := func(row string) string { return fw + "/" + row }
	for _, row := range []string{"bare", HitFloor, "jwksauth", "jwksauth-nocache"} {
		g, n := rp.rs.Paired(name(row+"-parallel"), name(row), gain)
		if n == 0 {
			continue
		}
		switch row {
		case "bare":
			// No target: the framework's own scaling, for reference.
			rp.p.printf("  info %s-parallel throughput %.2f× serial (the framework alone)\n", row, g)
		case HitFloor:
			rp.p.printf("  info %s-parallel throughput %.2f× serial (the least a cache hit does, in parallel)\n", row, g)
		default:
			why := ""
			if hg, n := rp.rs.Paired(name(HitFloor+"-parallel"), name(HitFloor), gain); row == "jwksauth" && n > 0 && hg < TargetParallel {
				why = fmt.Sprintf(": out of reach here, %s-parallel scales %.2f×", HitFloor, hg)
			}
			rp.verdict(g >= TargetParallel, "%s-parallel throughput %.2f× serial (target ≥ %.1f×)%s", row, g, TargetParallel, why)
		}
		par, ser := rp.byName[name(row+"-parallel")], rp.byName[name(row)]
		if c, n := rp.rs.Paired(par.Name, ser.Name, cpuRatio); n > 0 {
			// A busy machine shows as few CPUs given; contention
			// (a lock, shared writes) as CPU time per request rising.
			rp.p.printf("       given %.2f CPUs (serial %.2f); CPU time per request %.2f× serial's (1.00: no contention)\n",
				par.CPUs, ser.CPUs, c)
		}
	}
}

// dpopTargets judges framework fw's DPoP rows against their floors: a
// fresh proof verified on every request, with and without a token cache
// hit.
func (rp *report) dpopTargets(fw string) {
	for _, t := range []struct {
		row, floor string
		target     float64
	}{
		{"jwksauth-dpop-nocache", FloorDPoPName, TargetDPoPNoCache},
		{"jwksauth-dpop", FloorProofName, TargetDPoPCache},
	} {
		name := fw + "/" + t.row
		if _, ok := rp.byName[name]; !ok {
			continue
		}
		if ratio, n := rp.rs.Paired(name, t.floor, wallRatio); n > 0 {
			rp.verdict(ratio <= t.target, "%s %.3f× %s (target ≤ %.2f×)", t.row, ratio, strings.TrimPrefix(t.floor, "Benchmark"), t.target)
		}
	}
}

// issuersTargets judges framework fw's three-issuer row against its
// single-issuer row, both on the cached path.
func (rp *report) issuersTargets(fw string) {
	if ratio, n := rp.rs.Paired(fw+"/jwksauth-3issuers", fw+"/jwksauth", wallRatio); n > 0 {
		rp.verdict(ratio <= TargetIssuers, "jwksauth-3issuers %.3f× jwksauth (target ≤ %.2f×)", ratio, TargetIssuers)
	}
}

// coreRows prints core's own rows against core's floor and judges them.
func (rp *report) coreRows(summary []Result) {
	var core []Result
	for _, r := range summary {
		if strings.HasPrefix(r.Name, "BenchmarkCore") && r.Name != coreFloorName {
			core = append(core, r)
		}
	}
	if _, ok := rp.byName[coreFloorName]; !ok || len(core) == 0 {
		return
	}
	rp.table(fmt.Sprintf("core (ratios to %s)", coreFloorName), "BenchmarkCore", coreFloorName, core)
	for _, name := range []string{"BenchmarkCoreVerify/cache", "BenchmarkCoreAuthorize/cache"} {
		if r, ok := rp.byName[name]; ok {
			rp.verdict(r.AllocsPerOp == 0, "%s %.0f allocs/op inside core (target 0)", strings.TrimPrefix(name, "Benchmark"), r.AllocsPerOp)
		}
	}
	// Core's own scaling, without a framework's: the hot path's locks
	// and shared writes, if it had any, would show here.
	for _, name := range []string{"BenchmarkCoreAuthorize/cache", "BenchmarkCoreAuthorize/nocache"} {
		if g, n := rp.rs.Paired(name+"-parallel", name, gain); n > 0 {
			rp.verdict(g >= TargetParallel, "%s-parallel throughput %.2f× serial (target ≥ %.1f×)", strings.TrimPrefix(name, "Benchmark"), g, TargetParallel)
		}
	}
}

// Names of BenchmarkHitParts' rows.
const (
	hitPartSHA   = "BenchmarkHitParts/sha256"
	hitPartClock = "BenchmarkHitParts/clock"
)

// hitParts splits a hit-floor row's median into the framework (its bare
// row), the SHA-256 of the token, the clock, and what is left: the
// two stores of the principal with their GC, and the header and
// scope reads. "" when a part was not measured.
func hitParts(byName map[string]Result, bare, hf Result) string {
	sha, ok1 := byName[hitPartSHA]
	clock, ok2 := byName[hitPartClock]
	if !ok1 || !ok2 || bare.NsPerOp == 0 {
		return ""
	}
	rest := hf.NsPerOp - bare.NsPerOp - sha.NsPerOp - clock.NsPerOp
	return fmt.Sprintf(" = bare route %.0f + SHA-256 of the token %.0f + clock %.0f + stores, their GC and the rest %.0f ns",
		bare.NsPerOp, sha.NsPerOp, clock.NsPerOp, rest)
}

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
