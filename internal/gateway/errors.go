package gateway

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// apiKind is the API a path belongs to; it picks the error shape.
type apiKind int

const (
	apiOllama apiKind = iota
	apiOpenAI
	apiGateway // /healthz, /readyz, /metrics: Ollama's simple shape
)

func apiOf(path string) apiKind {
	switch {
	case path == "/v1" || strings.HasPrefix(path, "/v1/"):
		return apiOpenAI
	case path == "/healthz" || path == "/readyz" || path == "/metrics":
		return apiGateway
	}
	return apiOllama
}

// apiError is an error with its HTTP status and OpenAI type/code.
type apiError struct {
	Status  int
	Message string
	Type    string // OpenAI error type; derived from Status when empty
	Code    string // OpenAI code (model_not_found, context_length_exceeded, ...)
	Param   string
	// RetryAfter adds a Retry-After header when set.
	RetryAfter time.Duration
}

func (e *apiError) Error() string { return e.Message }

func errf(status int, code, msg string) *apiError {
	return &apiError{Status: status, Code: code, Message: msg}
}

func (e *apiError) openAIType() string {
	if e.Type != "" {
		return e.Type
	}
	switch {
	case e.Status == http.StatusUnauthorized:
		return "authentication_error"
	case e.Status == http.StatusForbidden:
		return "permission_error"
	case e.Status == http.StatusTooManyRequests:
		return "rate_limit_error"
	case e.Status >= 500:
		return "server_error"
	}
	return "invalid_request_error"
}

type openAIErrorBody struct {
	Error openAIError `json:"error"`
}

type openAIError struct {
	Message string  `json:"message"`
	Type    string  `json:"type"`
	Param   *string `json:"param"`
	Code    *string `json:"code"`
}

func (e *apiError) openAI() openAIError {
	o := openAIError{Message: e.Message, Type: e.openAIType()}
	if e.Param != "" {
		o.Param = &e.Param
	}
	if e.Code != "" {
		o.Code = &e.Code
	}
	return o
}

// writeError answers in the shape of the API the path belongs to: Ollama
// {"error":"..."}, OpenAI {"error":{"message","type","param","code"}}.
func writeError(w http.ResponseWriter, r *http.Request, e *apiError) {
	h := w.Header()
	if e.RetryAfter > 0 {
		h.Set("Retry-After", strconv.Itoa(int((e.RetryAfter+time.Second-1)/time.Second)))
	}
	var body any
	if apiOf(r.URL.Path) == apiOpenAI {
		body = openAIErrorBody{Error: e.openAI()}
	} else {
		body = map[string]string{"error": e.Message}
	}
	writeJSON(w, e.Status, body)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status, b = http.StatusInternalServerError, []byte(`{"error":"encoding the response failed"}`)
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)+1))
	w.WriteHeader(status)
	w.Write(append(b, '\n'))
}

// jsonError turns a decoding error into a 400 that says what was wrong.
func jsonError(err error) *apiError {
	var msg string
	switch e := err.(type) {
	case *json.SyntaxError:
		msg = "malformed JSON at byte " + strconv.FormatInt(e.Offset, 10) + ": " + e.Error()
	case *json.UnmarshalTypeError:
		field := e.Field
		if field == "" {
			field = "body"
		}
		msg = "field " + strconv.Quote(field) + " must be " + jsonTypeName(e.Type.Kind().String()) + ", got " + e.Value
		return &apiError{Status: http.StatusBadRequest, Message: msg, Param: field}
	default:
		msg = "invalid JSON body: " + err.Error()
	}
	return errf(http.StatusBadRequest, "", msg)
}

func jsonTypeName(kind string) string {
	switch kind {
	case "string":
		return "a string"
	case "bool":
		return "a boolean"
	case "slice", "array":
		return "an array"
	case "map", "struct":
		return "an object"
	case "int", "int64", "int32", "float64", "float32", "uint", "uint64":
		return "a number"
	}
	return "of type " + kind
}
