package gateway

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/switchyard/switchyard/internal/dispatch"
)

var (
	errFirstByteTimeout = errors.New("first byte timeout")
	errIdleTimeout      = errors.New("idle timeout")
	errUpstreamEOF      = errors.New("upstream closed the stream before it finished")
)

// call is one dispatched upstream request: it owns the deadlines and the
// outcome reported back to the dispatcher.
type call struct {
	g      *Gateway
	resp   *dispatch.Response
	ctx    context.Context
	cancel context.CancelCauseFunc
	body   *bufio.Reader

	inflight bool

	mu    sync.Mutex
	timer *time.Timer
	phase atomic.Int32 // 0 waiting for first byte, 1 streaming
	out   dispatch.Outcome
}

// send dispatches req with the request's context (a client disconnect
// cancels the upstream call) and the first-byte deadline armed when the
// dispatcher actually sends it.
func (g *Gateway) send(r *http.Request, req *dispatch.Request) (*call, *apiError) {
	ctx, cancel := context.WithCancelCause(r.Context())
	c := &call{g: g, ctx: ctx, cancel: cancel, inflight: req.Kind == dispatch.Inference}
	if c.inflight {
		g.metrics.inflight.Inc()
	}
	req.OnStart = func(time.Time) {
		c.mu.Lock()
		defer c.mu.Unlock()
		if c.timer == nil {
			c.timer = time.AfterFunc(g.cfg.FirstByteTimeout, c.expire)
		}
	}
	resp, err := g.disp.Dispatch(ctx, req)
	if err != nil {
		c.stopTimer()
		e := c.classify(err)
		cancel(nil)
		if c.inflight {
			g.metrics.inflight.Dec()
		}
		return nil, e
	}
	c.resp = resp
	// The first-byte deadline keeps running until body data arrives: some
	// upstreams send headers long before the model is loaded.
	c.body = readerPool.Get().(*bufio.Reader)
	c.body.Reset(&timedReader{c: c, r: resp.Body})
	return c, nil
}

// readerPool recycles the 32 KiB line buffers: allocating one per request
// was the gateway's largest allocation under load.
var readerPool = sync.Pool{New: func() any { return bufio.NewReaderSize(nil, 32<<10) }}

func (c *call) expire() {
	if c.phase.Load() == 0 {
		c.cancel(errFirstByteTimeout)
	} else {
		c.cancel(errIdleTimeout)
	}
}

func (c *call) stopTimer() {
	c.mu.Lock()
	if c.timer != nil {
		c.timer.Stop()
	}
	c.mu.Unlock()
}

// firstByte switches from the first-byte deadline to the idle deadline.
func (c *call) firstByte() {
	if c.phase.CompareAndSwap(0, 1) {
		c.out.FirstByte = time.Now()
	}
	c.mu.Lock()
	if c.timer != nil {
		c.timer.Reset(c.g.cfg.IdleTimeout)
	} else {
		c.timer = time.AfterFunc(c.g.cfg.IdleTimeout, c.expire)
	}
	c.mu.Unlock()
}

// classify turns a dispatch or read error into the answer for the client.
func (c *call) classify(err error) *apiError {
	cause := context.Cause(c.ctx)
	switch {
	case errors.Is(cause, errFirstByteTimeout):
		return &apiError{Status: http.StatusGatewayTimeout, Code: "first_byte_timeout",
			Message: fmt.Sprintf("upstream sent nothing within %s (first-byte timeout)", c.g.cfg.FirstByteTimeout)}
	case errors.Is(cause, errIdleTimeout):
		return &apiError{Status: http.StatusGatewayTimeout, Code: "idle_timeout",
			Message: fmt.Sprintf("upstream stalled: nothing for %s (idle timeout)", c.g.cfg.IdleTimeout)}
	case errors.Is(err, dispatch.ErrUnavailable):
		e := &apiError{Status: http.StatusServiceUnavailable, Code: "upstream_unavailable", Message: "upstream Ollama is unavailable: " + err.Error(), RetryAfter: c.g.cfg.RetryAfter}
		var ue *dispatch.UnavailableError
		if errors.As(err, &ue) && ue.RetryAfter > 0 {
			e.RetryAfter = ue.RetryAfter
		}
		return e
	case cause != nil:
		return &apiError{Status: 499, Code: "client_gone", Message: "client closed the request"}
	case errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF):
		return &apiError{Status: http.StatusBadGateway, Code: "upstream_eof", Message: errUpstreamEOF.Error()}
	}
	return &apiError{Status: http.StatusBadGateway, Code: "upstream_error", Message: "upstream error: " + err.Error()}
}

// finish stops the deadlines and tells the dispatcher the upstream is done.
func (c *call) finish(err error) {
	c.stopTimer()
	c.out.Err = err
	c.resp.Finish(c.out)
	if c.body != nil {
		c.body.Reset(nil)
		readerPool.Put(c.body)
		c.body = nil
	}
	c.cancel(nil)
	if c.inflight {
		c.g.metrics.inflight.Dec()
	}
}

// readAll reads a whole (non-streaming) body under the idle deadline.
func (c *call) readAll() ([]byte, *apiError) {
	b, err := io.ReadAll(c.body)
	if err != nil {
		return nil, c.classify(err)
	}
	return b, nil
}

// readWhole reads a one-object answer, records its timings and finishes
// the call.
func (c *call) readWhole() ([]byte, *apiError) {
	b, e := c.readAll()
	if e != nil {
		c.finish(e)
		return nil, e
	}
	var st finalStats
	_ = json.Unmarshal(b, &st)
	c.noteStats(st)
	c.finish(nil)
	return b, nil
}

// line returns the next NDJSON line without its newline; io.EOF at a clean
// end. The slice is valid until the next call.
func (c *call) line() ([]byte, error) {
	for {
		b, err := c.body.ReadSlice('\n')
		if err == bufio.ErrBufferFull {
			// A line longer than the buffer (a big tool call): assemble it.
			rest, err2 := c.body.ReadBytes('\n')
			b = append(append([]byte(nil), b...), rest...)
			err = err2
		}
		b = bytes.TrimSpace(b)
		if len(b) > 0 {
			if err == io.EOF {
				err = nil // last line without newline
			}
			return b, err
		}
		if err != nil {
			return nil, err
		}
	}
}

// timedReader notes the first byte and resets the idle deadline on every
// read that returns data.
type timedReader struct {
	c *call
	r io.Reader
}

func (t *timedReader) Read(p []byte) (int, error) {
	n, err := t.r.Read(p)
	if n > 0 {
		t.c.firstByte()
	}
	return n, err
}

// finalStats are the fields of Ollama's last chunk the gateway reports.
type finalStats struct {
	Done            bool   `json:"done"`
	DoneReason      string `json:"done_reason"`
	LoadDuration    int64  `json:"load_duration"`
	PromptEvalCount int    `json:"prompt_eval_count"`
	EvalCount       int    `json:"eval_count"`
	Error           string `json:"error"`
}

func (c *call) noteStats(s finalStats) {
	c.out.LoadDuration = time.Duration(s.LoadDuration)
	c.out.PromptEval = s.PromptEvalCount
	c.out.Eval = s.EvalCount
}

// setHeaders writes the X-Switchyard-* headers known before the body.
func setHeaders(h http.Header, t *Target, resp *dispatch.Response) {
	if t.Persona != nil {
		h.Set("X-Switchyard-Persona", t.Name)
	}
	h.Set("X-Switchyard-Model", t.Upstream)
	if resp != nil {
		h.Set("X-Switchyard-Queue-Ms", msString(resp.Queued))
	}
}

func msString(d time.Duration) string {
	return strconv.FormatFloat(float64(d)/float64(time.Millisecond), 'f', 3, 64)
}

// errorBody extracts Ollama's {"error":"..."} message from an error reply.
func errorBody(b []byte, status int) string {
	var e struct {
		Error string `json:"error"`
	}
	if json.Unmarshal(b, &e) == nil && e.Error != "" {
		return e.Error
	}
	if s := string(bytes.TrimSpace(b)); s != "" && len(s) < 512 {
		return s
	}
	return fmt.Sprintf("upstream answered %d", status)
}
