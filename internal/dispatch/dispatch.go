// Package dispatch is the one point through which the gateway reaches the
// upstream Ollama. The gateway hands over a whole, already-resolved request
// (persona, upstream model, options, size estimate, cancellation) before
// anything is sent, so a scheduler can hold, order and collate requests; it
// learns when the upstream is finished through Response.Finish.
//
// Direct forwards at once. The swap-aware scheduler replaces it behind the
// same Dispatcher interface.
package dispatch

import (
	"context"
	"errors"
	"io"
	"net/http"
	"sync"
	"time"
)

// Kind says whether a request makes the upstream run a model.
type Kind int

const (
	// Meta calls (version, tags, ps, show) read state and never load a model.
	Meta Kind = iota
	// Inference calls (chat, generate, embed) load a model and use the GPU.
	Inference
	// Admin calls (pull, create, delete, copy, push, blobs) change the model
	// store.
	Admin
)

func (k Kind) String() string {
	switch k {
	case Inference:
		return "inference"
	case Admin:
		return "admin"
	}
	return "meta"
}

// Request is one upstream call, fully resolved by the gateway.
type Request struct {
	Kind   Kind
	Method string // GET, POST, HEAD, DELETE
	Path   string // native Ollama path, e.g. /api/chat
	// Persona is the persona name the client asked for, "" for a plain model.
	Persona string
	// Model is the upstream (Ollama) model name; "" for calls about no model.
	Model string
	// NumCtx is the context the request runs with (0: upstream default);
	// a different value makes Ollama reload the model.
	NumCtx int
	// KeepAlive is the keep_alive sent upstream ("" = upstream default).
	KeepAlive string
	// PromptTokens is the gateway's estimate of the prompt size.
	PromptTokens int
	// Stream is true when the upstream answers NDJSON chunk by chunk.
	Stream bool
	// Body is the native Ollama JSON body (nil for GET).
	Body []byte
	// Header holds extra headers for the upstream (Content-Type is set).
	Header http.Header
	// OnStart, if set, is called once when the request leaves the queue and
	// is sent upstream; the gateway arms its first-byte deadline there so
	// time spent queued does not count against it.
	OnStart func(time.Time)
}

// Outcome is what the gateway observed of a finished upstream response.
type Outcome struct {
	FirstByte    time.Time     // zero if nothing arrived
	Done         time.Time     // when the last byte was read or the call gave up
	LoadDuration time.Duration // Ollama's load_duration, 0 if unknown
	PromptEval   int           // prompt_eval_count
	Eval         int           // eval_count
	Err          error         // nil when the upstream finished normally
}

// Response is the upstream's answer. The caller reads Body and then must
// call Finish exactly once (more calls are ignored); Finish closes Body and
// tells the dispatcher the upstream is free.
type Response struct {
	StatusCode int
	Header     http.Header
	Body       io.ReadCloser
	// Queued is the time the request waited inside the dispatcher before it
	// was sent upstream.
	Queued time.Duration
	// Started is when it was sent upstream.
	Started time.Time

	once     sync.Once
	onFinish func(Outcome)
}

// NewResponse builds a Response whose Finish calls onFinish (may be nil)
// after closing body.
func NewResponse(status int, h http.Header, body io.ReadCloser, queued time.Duration, started time.Time, onFinish func(Outcome)) *Response {
	return &Response{StatusCode: status, Header: h, Body: body, Queued: queued, Started: started, onFinish: onFinish}
}

// Finish closes the body and reports the outcome to the dispatcher.
func (r *Response) Finish(o Outcome) {
	r.once.Do(func() {
		if r.Body != nil {
			r.Body.Close()
		}
		if o.Done.IsZero() {
			o.Done = time.Now()
		}
		if r.onFinish != nil {
			r.onFinish(o)
		}
	})
}

// Dispatcher sends requests upstream. Dispatch returns once the upstream has
// answered with a status line (or failed). It must honour ctx: a cancelled
// context (client gone) abandons a queued request and aborts a running one.
type Dispatcher interface {
	Dispatch(ctx context.Context, req *Request) (*Response, error)
}

// ErrUnavailable wraps failures to reach the upstream at all (connection
// refused, DNS, a full queue); the gateway answers 503 with Retry-After.
var ErrUnavailable = errors.New("upstream unavailable")

// UnavailableError carries the cause of an ErrUnavailable.
type UnavailableError struct {
	Cause error
	// RetryAfter is a hint for the client; 0 lets the gateway choose.
	RetryAfter time.Duration
}

func (e *UnavailableError) Error() string {
	return "upstream unavailable: " + e.Cause.Error()
}

// Is makes errors.Is(err, ErrUnavailable) true.
func (e *UnavailableError) Is(target error) bool { return target == ErrUnavailable }

func (e *UnavailableError) Unwrap() error { return e.Cause }
