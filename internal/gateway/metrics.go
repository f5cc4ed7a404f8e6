package gateway

import (
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// maxPlainLabels bounds how many plain (non-strategy) model names get their
// own label value; later ones collapse into "other" so a client cannot blow
// up the series count by inventing names.
const maxPlainLabels = 32

type metrics struct {
	requests  *prometheus.CounterVec
	errors    *prometheus.CounterVec
	latency   *prometheus.HistogramVec
	ttft      *prometheus.HistogramVec
	queueWait *prometheus.HistogramVec
	load      *prometheus.HistogramVec
	inflight  prometheus.Gauge

	mu    sync.Mutex
	known map[string]bool // persona/model label values allowed
	plain int
}

var latencyBuckets = []float64{.001, .005, .01, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 120, 300}

func newMetrics(reg *prometheus.Registry, res *Resolver) (*metrics, error) {
	labels := []string{"endpoint", "persona", "model"}
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "switchyard_requests_total", Help: "Requests answered, by endpoint, persona, upstream model and HTTP status.",
		}, append(labels, "status")),
		errors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "switchyard_request_errors_total", Help: "Failed requests by reason (bad_request, not_found, too_large, upstream_unavailable, upstream_error, first_byte_timeout, idle_timeout, upstream_eof, client_gone).",
		}, append(labels, "reason")),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "switchyard_request_duration_seconds", Help: "Time from request to the last byte of the answer.", Buckets: latencyBuckets,
		}, labels),
		ttft: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "switchyard_time_to_first_token_seconds", Help: "Streaming requests: time from request to the first chunk.", Buckets: latencyBuckets,
		}, labels),
		queueWait: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "switchyard_queue_wait_seconds", Help: "Time a request waited in the dispatcher before going upstream.", Buckets: latencyBuckets,
		}, labels),
		load: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "switchyard_load_duration_seconds", Help: "Ollama's load_duration as reported in responses.", Buckets: latencyBuckets,
		}, labels),
		inflight: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "switchyard_inflight_requests", Help: "Inference requests in progress.",
		}),
		known: map[string]bool{"": true},
	}
	for _, c := range []prometheus.Collector{m.requests, m.errors, m.latency, m.ttft, m.queueWait, m.load, m.inflight} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	for _, t := range res.targets {
		m.known[t.Name] = true
		m.known[t.Upstream] = true
	}
	return m, nil
}

// label bounds cardinality: strategy names always, the first few plain
// names, then "other".
func (m *metrics) label(v string) string {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.known[v] {
		return v
	}
	if m.plain < maxPlainLabels && len(v) <= 128 {
		m.plain++
		m.known[v] = true
		return v
	}
	return "other"
}

func (m *metrics) handler(reg *prometheus.Registry) http.HandlerFunc {
	h := promhttp.HandlerFor(reg, promhttp.HandlerOpts{})
	return h.ServeHTTP
}

// observation is one finished request as the metrics see it.
type observation struct {
	endpoint, persona, model string
	status                   int
	reason                   string // "" when it succeeded
	start                    time.Time
	firstChunk               time.Time // streaming only
	queued                   time.Duration
	load                     time.Duration
	dispatched               bool
}

func (m *metrics) observe(o observation) {
	p, mo := m.label(o.persona), m.label(o.model)
	m.requests.WithLabelValues(o.endpoint, p, mo, strconv.Itoa(o.status)).Inc()
	if o.reason != "" {
		m.errors.WithLabelValues(o.endpoint, p, mo, o.reason).Inc()
	}
	m.latency.WithLabelValues(o.endpoint, p, mo).Observe(time.Since(o.start).Seconds())
	if !o.firstChunk.IsZero() {
		m.ttft.WithLabelValues(o.endpoint, p, mo).Observe(o.firstChunk.Sub(o.start).Seconds())
	}
	if o.dispatched {
		m.queueWait.WithLabelValues(o.endpoint, p, mo).Observe(o.queued.Seconds())
	}
	if o.load > 0 {
		m.load.WithLabelValues(o.endpoint, p, mo).Observe(o.load.Seconds())
	}
}
