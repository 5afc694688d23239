package app

import (
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promauto"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/jwksauth/jwksauth/core"
)

// MetricsPath is where an app serves its metrics.
const MetricsPath = "/metrics"

// Metrics are an app's Prometheus metrics, fed by core's hooks
// (Metrics.Hooks) and by the routes' auth answers. Each Metrics has its own
// registry, so several apps can run in one process (tests do). Every label
// value comes from a fixed set (route patterns of Routes, the reasons of
// core.Error.Reason, fixed outcomes): no kid, token or request input ever becomes a
// label. A nil *Metrics counts nothing.
type Metrics struct {
	reg *prometheus.Registry

	requests      *prometheus.CounterVec
	verifications *prometheus.CounterVec
	cacheHits     prometheus.Counter
	refreshes     *prometheus.CounterVec
	refreshTime   prometheus.Histogram
	keys          prometheus.Gauge
	lastRefresh   prometheus.Gauge
	skipped       prometheus.Counter
	unknownKID    prometheus.Counter
	cooldown      prometheus.Counter
}

// Outcomes of jwksauth_requests_total.
const (
	OutcomeAllowed = "allowed" // the token passed; the route answered
	OutcomeRefused = "refused" // the middleware or the scope guard refused
)

// NewMetrics returns metrics with a fresh registry, which also holds the
// Go runtime and process collectors.
func NewMetrics() *Metrics {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	f := factory{promauto.With(reg)}
	return &Metrics{
		reg: reg,
		requests: f.counterVec("jwksauth_requests_total",
			"Requests to protected routes, by route, outcome (allowed or refused), reason (ok, or why it was refused) and status code.",
			"method", "route", "outcome", "reason", "code"),
		verifications: f.counterVec("jwksauth_token_verifications_total",
			"Token verifications by result (valid or invalid) and reason (ok, or why the token was refused).",
			"result", "reason"),
		cacheHits: f.counter("jwksauth_token_cache_hits_total",
			"Valid tokens answered from the verified-token cache, without signature verification."),
		refreshes: f.counterVec("jwksauth_jwks_refreshes_total",
			"JWKS fetches by trigger (scheduled, including the start-up load, or unknown_kid) and result (success or failure).",
			"trigger", "result"),
		refreshTime: f.NewHistogram(prometheus.HistogramOpts{
			Name:    "jwksauth_jwks_refresh_duration_seconds",
			Help:    "Duration of JWKS fetches, successful or not.",
			Buckets: prometheus.DefBuckets,
		}),
		keys: f.gauge("jwksauth_jwks_keys",
			"Usable keys in the last JWKS fetched successfully."),
		lastRefresh: f.gauge("jwksauth_jwks_last_success_timestamp_seconds",
			"Unix time of the last successful JWKS fetch (0: none yet)."),
		skipped: f.counter("jwksauth_jwks_keys_skipped_total",
			"Keys of fetched JWK Sets that cannot be used (use enc, unknown kty, weak RSA, unsupported curve), per fetch."),
		unknownKID: f.counter("jwksauth_unknown_kid_total",
			"Tokens whose kid is not among the usable keys."),
		cooldown: f.counter("jwksauth_unknown_kid_cooldown_total",
			"Unknown-kid tokens answered at once, because a refresh already ran within the cooldown."),
	}
}

// factory makes the metrics of NewMetrics, each registered as it is made.
type factory struct{ promauto.Factory }

func (f factory) counter(name, help string) prometheus.Counter {
	return f.NewCounter(prometheus.CounterOpts{Name: name, Help: help})
}

func (f factory) counterVec(name, help string, labels ...string) *prometheus.CounterVec {
	return f.NewCounterVec(prometheus.CounterOpts{Name: name, Help: help}, labels)
}

func (f factory) gauge(name, help string) prometheus.Gauge {
	return f.NewGauge(prometheus.GaugeOpts{Name: name, Help: help})
}

// Registry returns the registry the metrics are in, to add an app's own.
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// Handler serves the metrics in the Prometheus text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{})
}

// Hooks returns the core hooks that feed the metrics; pass them to
// core.WithHooks. They only increment counters: cheap enough to run on
// every request.
func (m *Metrics) Hooks() core.Hooks {
	if m == nil {
		return core.Hooks{}
	}
	return core.Hooks{
		OnVerify: func(i core.VerifyInfo) {
			if i.Err != nil {
				m.verifications.WithLabelValues("invalid", core.Reason(i.Err)).Inc()
				return
			}
			m.verifications.WithLabelValues("valid", ReasonOK).Inc()
			if i.CacheHit {
				m.cacheHits.Inc()
			}
		},
		OnRefresh: func(i core.RefreshInfo) {
			trigger := "other"
			switch i.Reason {
			case core.RefreshScheduled:
				trigger = "scheduled"
			case core.RefreshUnknownKID:
				trigger = "unknown_kid"
			}
			m.refreshTime.Observe(i.Duration.Seconds())
			if i.Err != nil {
				m.refreshes.WithLabelValues(trigger, "failure").Inc()
				return
			}
			m.refreshes.WithLabelValues(trigger, "success").Inc()
			m.keys.Set(float64(i.Keys))
			m.lastRefresh.Set(float64(time.Now().UnixNano()) / 1e9)
		},
		OnKeySkipped: func(string, error) { m.skipped.Inc() }, // the kid is not a label
		OnUnknownKID: m.unknownKID.Inc,
		OnCooldown:   m.cooldown.Inc,
	}
}

// count counts one answer of route rt.
func (m *Metrics) count(rt Route, outcome, reason string, status int) {
	if m != nil {
		m.requests.WithLabelValues(rt.Method, rt.Path, outcome, reason, strconv.Itoa(status)).Inc()
	}
}

// ReasonOK is the reason label of accepted tokens and allowed requests.
const ReasonOK = "ok"

// reasonUnguarded labels a protected route reached without a principal
// (its guard was not mounted), which Route.Serve refuses with 500.
const reasonUnguarded = "unguarded"
