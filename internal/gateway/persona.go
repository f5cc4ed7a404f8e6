package gateway

import (
	"sort"
	"strings"

	"github.com/switchyard/switchyard/internal/catalog"
	"github.com/switchyard/switchyard/internal/strategy"
)

// Target is what a requested model name resolves to.
type Target struct {
	// Name is the name the client used (":latest" trimmed for personas).
	Name string
	// Persona is set when Name is a persona.
	Persona *strategy.Persona
	// Planned is the strategy model behind a persona or a planned model id.
	Planned *strategy.Model
	// Upstream is the Ollama model name the request is sent as.
	Upstream string
	// System is the persona's system prompt ("" for plain models).
	System string
	// Options are the persona's parameters (num_ctx excluded).
	Options map[string]any
	// NumCtx is the context the persona or planned model fixes; 0 for
	// plain models (upstream default, or whatever the request says).
	NumCtx int
	// KeepAlive is the default keep_alive ("" = leave to the upstream).
	KeepAlive string
}

// IsPlain reports a name passed through untouched.
func (t *Target) IsPlain() bool { return t.Persona == nil && t.Planned == nil }

// Resolver maps model names in requests to upstream calls. It is built once
// from the strategy and is safe for concurrent use.
type Resolver struct {
	targets map[string]*Target
	names   []string // personas, sorted
	pending map[string]string
}

// NewResolver indexes the strategy's personas and planned models. Planned
// model ids (e.g. "qwen3-8b") resolve to their pull reference with their
// context and keep-alive, so a strategy id works as a model name too.
func NewResolver(s *strategy.Strategy, cat *catalog.Catalog) *Resolver {
	r := &Resolver{targets: map[string]*Target{}, pending: map[string]string{}}
	if s == nil {
		return r
	}
	pinned := map[string]bool{}
	for _, p := range s.Hardware.Pinned {
		pinned[p] = true
	}
	upstream := func(m *strategy.Model) string {
		if m.Pull != "" {
			return m.Pull
		}
		if cat != nil {
			if cm, ok := cat.Get(m.CatalogID()); ok {
				return cm.ResolvePull(m.Quant, m.Pull).Ref
			}
		}
		return ""
	}
	// keep-alive: persona → model → pinned (-1, stays resident beside the
	// large model) → hardware default.
	keepAlive := func(own strategy.KeepAlive, m *strategy.Model) string {
		switch {
		case own != "":
			return string(own)
		case m.KeepAlive != "":
			return string(m.KeepAlive)
		case pinned[m.ID]:
			return "-1"
		}
		return string(s.Hardware.KeepAlive)
	}
	for i := range s.Models {
		m := &s.Models[i]
		ref := upstream(m)
		if ref == "" {
			continue
		}
		r.targets[m.ID] = &Target{Name: m.ID, Planned: m, Upstream: ref, NumCtx: m.Context, KeepAlive: keepAlive("", m)}
	}
	for i := range s.Personas {
		p := &s.Personas[i]
		name := trimLatest(p.Name)
		if p.Model == "" {
			r.pending[name] = p.Pending
			continue
		}
		m, ok := s.Model(p.Model)
		if !ok {
			continue
		}
		ref := upstream(m)
		if ref == "" {
			r.pending[name] = "its base model " + m.ID + " has no pull reference Ollama can run"
			continue
		}
		t := &Target{
			Name: name, Persona: p, Planned: m, Upstream: ref, System: p.System,
			Options: map[string]any{}, NumCtx: s.PersonaContext(p),
			KeepAlive: keepAlive(p.KeepAlive, m),
		}
		for k, v := range p.Parameters {
			if k == "num_ctx" {
				if n, ok := toInt(v); ok && n > 0 {
					t.NumCtx = n
				}
				continue
			}
			t.Options[k] = v
		}
		r.targets[name] = t
		r.names = append(r.names, name)
	}
	sort.Strings(r.names)
	return r
}

// Resolve returns the target for name; a name that is neither a persona nor
// a planned model passes through as a plain upstream model. A persona that
// is still pending reports its reason with ok=false.
func (r *Resolver) Resolve(name string) (t *Target, pendingReason string, ok bool) {
	if t, found := r.targets[name]; found {
		return t, "", true
	}
	short := trimLatest(name)
	if t, found := r.targets[short]; found && t.Persona != nil {
		return t, "", true
	}
	if why, found := r.pending[short]; found {
		return nil, why, false
	}
	return &Target{Name: name, Upstream: name}, "", true
}

// Personas lists the runnable persona names, sorted.
func (r *Resolver) Personas() []string { return r.names }

// Persona returns the target of a runnable persona.
func (r *Resolver) Persona(name string) (*Target, bool) {
	t, ok := r.targets[trimLatest(name)]
	if !ok || t.Persona == nil {
		return nil, false
	}
	return t, true
}

func trimLatest(s string) string { return strings.TrimSuffix(s, ":latest") }

// toInt accepts JSON and YAML numbers.
func toInt(v any) (int, bool) {
	switch n := v.(type) {
	case int:
		return n, true
	case int64:
		return int(n), true
	case float64:
		if n == float64(int(n)) {
			return int(n), true
		}
	}
	return 0, false
}

// EffectiveNumCtx applies the num_ctx rule: a persona or planned model fixes
// its context, because that is what the plan budgeted VRAM for; a request
// may only ask for less (a larger one could evict the pinned embedder or not
// fit at all). Plain models take the request's value, or 0 (upstream
// default).
func EffectiveNumCtx(fixed, requested int) int {
	switch {
	case fixed <= 0:
		return requested
	case requested > 0 && requested < fixed:
		return requested
	default:
		return fixed
	}
}

// MergeOptions applies the options rule: persona parameters first, request
// options win key by key, then num_ctx per EffectiveNumCtx (0 leaves it
// unset). The result is a new map.
func MergeOptions(persona, request map[string]any, fixedCtx int) (map[string]any, int) {
	out := make(map[string]any, len(persona)+len(request)+1)
	for k, v := range persona {
		out[k] = v
	}
	for k, v := range request {
		out[k] = v
	}
	reqCtx := 0
	if v, ok := request["num_ctx"]; ok {
		reqCtx, _ = toInt(v)
	}
	n := EffectiveNumCtx(fixedCtx, reqCtx)
	if n > 0 {
		out["num_ctx"] = n
	} else {
		delete(out, "num_ctx")
	}
	return out, n
}

// EstimateTokens is the prompt-size heuristic: one token per four bytes of
// text, rounded up. It over-counts English (≈4.5 bytes/token) and
// under-counts CJK (≈3 bytes/token), which is why the refusal threshold
// leaves a factor of four over the context.
func EstimateTokens(textBytes int) int { return (textBytes + 3) / 4 }

// PromptTooLarge applies the prompt-size rule: refuse when the estimate is
// over factor × num_ctx. Ollama would truncate such a prompt to num_ctx
// anyway, but only after tokenising all of it, which is what stalled the
// one GPU for everyone.
func PromptTooLarge(tokens, numCtx int, factor float64) bool {
	if numCtx <= 0 || factor <= 0 {
		return false
	}
	return float64(tokens) > factor*float64(numCtx)
}
