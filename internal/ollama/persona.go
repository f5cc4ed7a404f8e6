package ollama

import (
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"

	"github.com/ollama/ollama/api"
)

// PersonaSpec is what switchyard asks Ollama to create for one persona: a
// model derived from a base model with a system prompt and parameters. The
// weights blob is shared with the base, so a persona costs no disk.
type PersonaSpec struct {
	Name   string `json:"name"`
	From   string `json:"from"`
	System string `json:"system,omitempty"`
	// Parameters are Modelfile parameters, num_ctx included.
	Parameters map[string]any `json:"parameters,omitempty"`
}

// CreateRequest converts the spec to Ollama's /api/create request.
func (p PersonaSpec) CreateRequest() *api.CreateRequest {
	req := &api.CreateRequest{Model: p.Name, From: p.From, System: p.System}
	if len(p.Parameters) > 0 {
		req.Parameters = make(map[string]any, len(p.Parameters))
		for k, v := range p.Parameters {
			req.Parameters[k] = v
		}
	}
	return req
}

// ParseParameters reads the "parameters" text of /api/show ("num_ctx
// 16384", `stop "<|im_end|>"`, one line per value; repeated keys such as
// stop accumulate) into values per key, quotes removed.
func ParseParameters(text string) map[string][]string {
	out := map[string][]string{}
	for _, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		key, val, _ := strings.Cut(line, " ")
		val = strings.TrimSpace(val)
		if uq, err := strconv.Unquote(val); err == nil {
			val = uq
		}
		out[key] = append(out[key], val)
	}
	return out
}

// paramValues flattens a strategy parameter value to strings: lists give
// one value each (stop), scalars one.
func paramValues(v any) []string {
	switch x := v.(type) {
	case []any:
		var out []string
		for _, e := range x {
			out = append(out, paramValues(e)...)
		}
		return out
	case []string:
		return append([]string(nil), x...)
	case float64:
		return []string{strconv.FormatFloat(x, 'g', -1, 64)}
	case float32:
		return []string{strconv.FormatFloat(float64(x), 'g', -1, 32)}
	case nil:
		return nil
	default:
		return []string{fmt.Sprint(x)}
	}
}

// sameValue compares one parameter value: numbers as floats (Ollama keeps
// them as float32, so 0.2 may come back as 0.20000000298), else as text.
func sameValue(want, got string) bool {
	if want == got {
		return true
	}
	a, errA := strconv.ParseFloat(want, 64)
	b, errB := strconv.ParseFloat(got, 64)
	if errA != nil || errB != nil {
		return false
	}
	return math.Abs(a-b) <= 1e-6*math.Max(1, math.Abs(a))
}

func sameValues(want, got []string) bool {
	if len(want) != len(got) {
		return false
	}
	// Order of stop sequences does not matter to Ollama.
	w, g := append([]string(nil), want...), append([]string(nil), got...)
	sort.Strings(w)
	sort.Strings(g)
	for i := range w {
		if !sameValue(w[i], g[i]) {
			return false
		}
	}
	return true
}

// ComparePersona lists how the installed model (read back with /api/show)
// differs from the spec: "system", "parameters.<key> (want X, have Y)".
// Only the parameters the spec declares are compared, because a derived
// model inherits its base model's parameters (a library model's stop
// sequences, top_k...) and those are not switchyard's to judge. An empty
// result means the persona is up to date.
func ComparePersona(want PersonaSpec, got *api.ShowResponse) []string {
	if got == nil {
		return []string{"not installed"}
	}
	var diffs []string
	if strings.TrimSpace(want.System) != strings.TrimSpace(got.System) {
		diffs = append(diffs, "system prompt")
	}
	have := ParseParameters(got.Parameters)
	keys := make([]string, 0, len(want.Parameters))
	for k := range want.Parameters {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		w := paramValues(want.Parameters[k])
		g, ok := have[k]
		switch {
		case !ok && len(w) > 0:
			diffs = append(diffs, fmt.Sprintf("parameters.%s (want %s, not set)", k, strings.Join(w, ",")))
		case ok && !sameValues(w, g):
			diffs = append(diffs, fmt.Sprintf("parameters.%s (want %s, have %s)", k, strings.Join(w, ","), strings.Join(g, ",")))
		}
	}
	if p := got.Details.ParentModel; p != "" && want.From != "" && !SameModel(p, want.From) {
		diffs = append(diffs, fmt.Sprintf("base model (want %s, have %s)", want.From, p))
	}
	return diffs
}
