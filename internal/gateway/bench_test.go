package gateway

import (
	"bufio"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/switchyard/switchyard/internal/dispatch"
)

// fastUpstream answers at once: a fixed chat object, or a three-chunk
// NDJSON stream, so the measurement is the gateway's own cost.
func fastUpstream() *httptest.Server {
	final := []byte(`{"model":"tiny-coder:latest","created_at":"2026-01-01T00:00:00Z","message":{"role":"assistant","content":"hello world"},"done":true,"done_reason":"stop","total_duration":1000,"load_duration":100,"prompt_eval_count":7,"eval_count":2}`)
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if strings.Contains(string(body), `"stream":false`) {
			w.Header().Set("Content-Type", "application/json; charset=utf-8")
			w.Write(final)
			return
		}
		w.Header().Set("Content-Type", "application/x-ndjson")
		f := w.(http.Flusher)
		for _, p := range []string{"hello", " world"} {
			io.WriteString(w, `{"model":"tiny-coder:latest","message":{"role":"assistant","content":"`+p+`"},"done":false}`+"\n")
			f.Flush()
		}
		w.Write(append(final, '\n'))
	}))
}

func benchClient() *http.Client { return &http.Client{Transport: dispatch.NewTransport()} }

// runLoad sends n requests from `clients` goroutines and returns the
// sorted latencies and the wall time.
func runLoad(b *testing.B, c *http.Client, url, body string, n, clients int, ttft bool) ([]time.Duration, time.Duration) {
	lat := make([]time.Duration, n)
	var next atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	for range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				t0 := time.Now()
				resp, err := c.Post(url, "application/json", strings.NewReader(body))
				if err != nil {
					b.Error(err)
					return
				}
				br := bufio.NewReader(resp.Body)
				if ttft {
					br.ReadString('\n')
					lat[i] = time.Since(t0)
				}
				io.Copy(io.Discard, br)
				resp.Body.Close()
				if resp.StatusCode != 200 {
					b.Errorf("status %d", resp.StatusCode)
					return
				}
				if !ttft {
					lat[i] = time.Since(t0)
				}
			}
		}()
	}
	wg.Wait()
	wall := time.Since(start)
	slices.Sort(lat)
	return lat, wall
}

func pct(lat []time.Duration, p float64) float64 {
	return float64(lat[int(float64(len(lat)-1)*p)]) / float64(time.Millisecond)
}

// BenchmarkGatewayOverhead measures, in one run, direct calls to a fast
// loopback upstream against the same calls through the gateway (persona
// resolution, option merge, re-encoding, metrics): non-streaming latency
// with 64 concurrent clients, requests per second, and streaming time to
// first chunk with one client. Run with scripts/bench-gateway.sh. With
// fewer cores than clients the 64-client figures measure CPU queueing: the
// gateway adds a second loopback hop competing for the same cores.
func BenchmarkGatewayOverhead(b *testing.B) {
	up := fastUpstream()
	defer up.Close()
	gw := httptest.NewServer(newTestGateway(b, up.URL, nil))
	defer gw.Close()
	c := benchClient()
	const clients = 64
	n := max(b.N, 2000)
	direct := `{"model":"tiny-coder:latest","stream":false,"messages":[{"role":"user","content":"hello"}]}`
	viaGW := `{"model":"my-coder","stream":false,"messages":[{"role":"user","content":"hello"}]}`
	streamDirect := strings.Replace(direct, `"stream":false`, `"stream":true`, 1)
	streamGW := strings.Replace(viaGW, `"stream":false`, `"stream":true`, 1)

	// Warm both paths' connection pools.
	runLoad(b, c, up.URL+"/api/chat", direct, 500, clients, false)
	runLoad(b, c, gw.URL+"/api/chat", viaGW, 500, clients, false)
	b.ResetTimer()
	dLat, dWall := runLoad(b, c, up.URL+"/api/chat", direct, n, clients, false)
	gLat, gWall := runLoad(b, c, gw.URL+"/api/chat", viaGW, n, clients, false)
	d1, _ := runLoad(b, c, up.URL+"/api/chat", direct, n/4, 1, false)
	g1, _ := runLoad(b, c, gw.URL+"/api/chat", viaGW, n/4, 1, false)
	dT, _ := runLoad(b, c, up.URL+"/api/chat", streamDirect, n/4, 1, true)
	gT, _ := runLoad(b, c, gw.URL+"/api/chat", streamGW, n/4, 1, true)
	b.StopTimer()

	b.ReportMetric(pct(dLat, .5), "direct-p50-ms")
	b.ReportMetric(pct(gLat, .5), "gw-p50-ms")
	b.ReportMetric(pct(gLat, .5)-pct(dLat, .5), "added-p50-ms")
	b.ReportMetric(pct(dLat, .99), "direct-p99-ms")
	b.ReportMetric(pct(gLat, .99), "gw-p99-ms")
	b.ReportMetric(pct(gLat, .99)-pct(dLat, .99), "added-p99-ms")
	b.ReportMetric(float64(n)/dWall.Seconds(), "direct-rps")
	b.ReportMetric(float64(n)/gWall.Seconds(), "gw-rps")
	// One client: the per-request cost without CPU queueing.
	b.ReportMetric(pct(g1, .5)-pct(d1, .5), "added-p50-1client-ms")
	b.ReportMetric(pct(g1, .99)-pct(d1, .99), "added-p99-1client-ms")
	b.ReportMetric(pct(gT, .5)-pct(dT, .5), "added-ttft-p50-ms")
	b.ReportMetric(pct(gT, .5), "gw-ttft-p50-ms")
	b.ReportMetric(0, "ns/op")
}
