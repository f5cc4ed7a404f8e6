package gateway

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/switchyard/switchyard/internal/dispatch"
)

// adminRoutes change the upstream's model store. They are refused with 403
// unless Config.AllowAdmin: a gateway that may face other machines should
// not let them pull or delete models, and `switchyard sync` owns the store.
var adminRoutes = []struct{ method, path string }{
	{"POST", "/api/pull"}, {"POST", "/api/push"}, {"POST", "/api/create"},
	{"POST", "/api/copy"}, {"DELETE", "/api/delete"},
	{"POST", "/api/blobs/{digest}"}, {"HEAD", "/api/blobs/{digest}"},
}

// tagModel is the part of a /api/tags entry the gateway reads.
type tagModel struct {
	Name       string          `json:"name"`
	Model      string          `json:"model"`
	ModifiedAt time.Time       `json:"modified_at"`
	Size       int64           `json:"size"`
	Digest     string          `json:"digest"`
	Details    json.RawMessage `json:"details,omitempty"`
}

// meta runs a metadata call through the dispatcher and returns the body.
func (g *Gateway) meta(r *http.Request, method, path string, body []byte) (int, []byte, *apiError) {
	c, e := g.send(r, &dispatch.Request{Kind: dispatch.Meta, Method: method, Path: path, Body: body})
	if e != nil {
		return 0, nil, e
	}
	b, e := c.readAll()
	c.finish(nil)
	if e != nil {
		return 0, nil, e
	}
	return c.resp.StatusCode, b, nil
}

func (g *Gateway) upstreamTags(r *http.Request) ([]tagModel, error) {
	status, b, e := g.meta(r, http.MethodGet, "/api/tags", nil)
	if e != nil {
		return nil, e
	}
	if status != http.StatusOK {
		return nil, fmt.Errorf("upstream /api/tags: %s", errorBody(b, status))
	}
	var tags struct {
		Models []tagModel `json:"models"`
	}
	if err := json.Unmarshal(b, &tags); err != nil {
		return nil, err
	}
	return tags.Models, nil
}

// tags lists upstream models, then personas. A persona shows its base
// model's size and details and a digest of its own definition (ollama list
// prints the first 12 hex digits).
func (g *Gateway) tags(w http.ResponseWriter, r *http.Request) {
	status, b, e := g.meta(r, http.MethodGet, "/api/tags", nil)
	if e != nil {
		writeError(w, r, e)
		return
	}
	if status != http.StatusOK {
		writeError(w, r, &apiError{Status: status, Message: errorBody(b, status)})
		return
	}
	var tags struct {
		Models []json.RawMessage `json:"models"`
	}
	var typed struct {
		Models []tagModel `json:"models"`
	}
	if json.Unmarshal(b, &tags) != nil || json.Unmarshal(b, &typed) != nil {
		writeError(w, r, errf(http.StatusBadGateway, "upstream_error", "upstream /api/tags answered malformed JSON"))
		return
	}
	byName := map[string]tagModel{}
	for _, m := range typed.Models {
		byName[m.Name] = m
	}
	for _, name := range g.res.Personas() {
		t, _ := g.res.Persona(name)
		base, ok := byName[t.Upstream]
		if !ok {
			base = byName[t.Upstream+":latest"]
		}
		entry := tagModel{Name: name, Model: name, ModifiedAt: base.ModifiedAt, Size: base.Size,
			Digest: personaDigest(t), Details: base.Details}
		if entry.ModifiedAt.IsZero() {
			entry.ModifiedAt = time.Unix(0, 0).UTC()
		}
		tags.Models = append(tags.Models, mustJSON(entry))
	}
	if tags.Models == nil {
		tags.Models = []json.RawMessage{}
	}
	writeJSON(w, http.StatusOK, tags)
}

func personaDigest(t *Target) string {
	h := sha256.New()
	fmt.Fprintf(h, "%s\x00%s\x00%s\x00%d\x00%s\x00%s", t.Name, t.Upstream, t.System, t.NumCtx, t.KeepAlive, mustJSON(t.Options))
	return hex.EncodeToString(h.Sum(nil))
}

// ps is the upstream's list of loaded models, unchanged (a persona runs as
// its base model).
func (g *Gateway) ps(w http.ResponseWriter, r *http.Request) { g.proxy(w, r, dispatch.Meta, nil) }

func (g *Gateway) version(w http.ResponseWriter, r *http.Request) {
	g.proxy(w, r, dispatch.Meta, nil)
}

// show answers for a persona with its base model's /api/show, overlaid with
// the persona's system prompt, parameters and a generated Modelfile, plus a
// "switchyard" object naming the persona's base and upstream model.
func (g *Gateway) show(w http.ResponseWriter, r *http.Request) {
	body, e := readBody(r)
	if e != nil {
		writeError(w, r, e)
		return
	}
	var req map[string]json.RawMessage
	var sr struct {
		Model string `json:"model"`
		Name  string `json:"name"` // older clients
	}
	if e := decodeBody(body, &sr); e != nil {
		writeError(w, r, e)
		return
	}
	_ = json.Unmarshal(body, &req)
	name := sr.Model
	if name == "" {
		name = sr.Name
	}
	if name == "" {
		writeError(w, r, &apiError{Status: http.StatusBadRequest, Param: "model", Message: "model is required"})
		return
	}
	t, pending, ok := g.res.Resolve(name)
	if !ok {
		writeError(w, r, errf(http.StatusNotFound, "model_not_found", fmt.Sprintf("persona %q has no model yet: %s", name, pending)))
		return
	}
	delete(req, "name")
	req["model"] = mustJSON(t.Upstream)
	status, b, e := g.meta(r, http.MethodPost, "/api/show", mustJSON(req))
	if e != nil {
		writeError(w, r, e)
		return
	}
	if status == http.StatusNotFound {
		writeError(w, r, g.modelNotFound(r, t))
		return
	}
	if status != http.StatusOK {
		writeError(w, r, &apiError{Status: status, Message: errorBody(b, status)})
		return
	}
	setHeaders(w.Header(), t, nil)
	if t.IsPlain() {
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.WriteHeader(http.StatusOK)
		w.Write(b)
		return
	}
	var resp map[string]json.RawMessage
	if err := json.Unmarshal(b, &resp); err != nil {
		writeError(w, r, errf(http.StatusBadGateway, "upstream_error", "upstream /api/show answered malformed JSON"))
		return
	}
	var baseParams string
	_ = json.Unmarshal(resp["parameters"], &baseParams)
	params := personaParameters(t, baseParams)
	if t.System != "" {
		resp["system"] = mustJSON(t.System)
	}
	resp["parameters"] = mustJSON(params)
	resp["modelfile"] = mustJSON(personaModelfile(t, params))
	info := map[string]any{"upstream_model": t.Upstream, "num_ctx": t.NumCtx, "keep_alive": t.KeepAlive}
	if t.Persona != nil {
		info["persona"] = t.Name
	}
	if t.Planned != nil {
		info["model"] = t.Planned.ID
	}
	resp["switchyard"] = mustJSON(info)
	writeJSON(w, http.StatusOK, resp)
}

// personaParameters renders Ollama's "parameters" text: the persona's own
// values and num_ctx, then base-model lines for keys the persona leaves alone
// (stop tokens, usually).
func personaParameters(t *Target, base string) string {
	set := map[string]bool{}
	var lines []string
	keys := make([]string, 0, len(t.Options))
	for k := range t.Options {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	add := func(k string, v any) {
		set[k] = true
		switch x := v.(type) {
		case []any:
			for _, e := range x {
				lines = append(lines, fmt.Sprintf("%-30s %v", k, e))
			}
		default:
			lines = append(lines, fmt.Sprintf("%-30s %v", k, v))
		}
	}
	if t.NumCtx > 0 {
		add("num_ctx", t.NumCtx)
	}
	for _, k := range keys {
		add(k, t.Options[k])
	}
	for _, l := range strings.Split(base, "\n") {
		f := strings.Fields(l)
		if len(f) > 0 && !set[f[0]] {
			lines = append(lines, l)
		}
	}
	return strings.Join(lines, "\n")
}

func personaModelfile(t *Target, params string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "# switchyard persona %s\nFROM %s\n", t.Name, t.Upstream)
	if t.System != "" {
		fmt.Fprintf(&b, "SYSTEM \"\"\"%s\"\"\"\n", t.System)
	}
	for _, l := range strings.Split(params, "\n") {
		if f := strings.Fields(l); len(f) >= 2 {
			fmt.Fprintf(&b, "PARAMETER %s %s\n", f[0], strings.Join(f[1:], " "))
		}
	}
	return b.String()
}

// admin proxies model-store calls when allowed.
func (g *Gateway) admin(w http.ResponseWriter, r *http.Request) {
	if !g.cfg.AllowAdmin {
		writeError(w, r, errf(http.StatusForbidden, "admin_disabled", fmt.Sprintf(
			"%s %s is refused: this gateway does not change the model store (start it with --allow-admin, use `switchyard sync`, or talk to Ollama directly)",
			r.Method, r.URL.Path)))
		return
	}
	var body []byte
	if r.Method != http.MethodHead && r.Method != http.MethodGet {
		b, err := io.ReadAll(r.Body)
		if err != nil {
			writeError(w, r, tooLarge(g.cfg.MaxBodyBytes))
			return
		}
		body = b
	}
	g.proxy(w, r, dispatch.Admin, body)
}

// proxy forwards the request unchanged and copies the answer back, flushing
// as it arrives (pull and create stream progress).
func (g *Gateway) proxy(w http.ResponseWriter, r *http.Request, kind dispatch.Kind, body []byte) {
	c, e := g.send(r, &dispatch.Request{Kind: kind, Method: r.Method, Path: r.URL.Path, Body: body})
	if e != nil {
		writeError(w, r, e)
		return
	}
	for _, k := range []string{"Content-Type", "Content-Length"} {
		if v := c.resp.Header.Get(k); v != "" {
			w.Header().Set(k, v)
		}
	}
	w.WriteHeader(c.resp.StatusCode)
	rc := http.NewResponseController(w)
	buf := make([]byte, 32<<10)
	var failure error
	for {
		n, err := c.body.Read(buf)
		if n > 0 {
			if _, werr := w.Write(buf[:n]); werr != nil {
				failure = werr
				break
			}
			rc.Flush()
		}
		if err != nil {
			if err != io.EOF {
				failure = err
			}
			break
		}
	}
	c.finish(failure)
}
