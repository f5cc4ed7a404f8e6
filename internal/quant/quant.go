// Package quant owns the facts about GGUF quantization types: bits per weight
// of whole files, measured quality loss against F16, and how each type is
// spelled in Ollama tags and Hugging Face references. It also owns the KV
// cache element types. Everything here is data plus lookups; no I/O.
package quant

import (
	"fmt"
	"strings"
)

// Type describes one weight quantization.
type Type struct {
	Name string // canonical spelling, e.g. Q4_K_M
	// BPW is bits per weight of a whole file, output head and embeddings
	// included (llama.cpp quantize README, Llama-3.1-8B).
	BPW float64
	// KLD is the mean KL divergence against F16 and PPLDelta the perplexity
	// increase (Llama-3-8B). Known is false where no measurement exists; then
	// the values are interpolated from neighbours and say so.
	KLD      float64
	PPLDelta float64
	Known    bool
	// OllamaSuffix is how Ollama's library spells it in a tag (q4_K_M, fp16).
	OllamaSuffix string
}

// Types, best quality first. Sources: llama.cpp tools/quantize README (bpw),
// llama.cpp perplexity KL-divergence tables for Llama-3-8B (KLD, PPL).
var types = []Type{
	{"F32", 32, 0, 0, true, "fp32"},
	{"F16", 16, 0, 0, true, "fp16"},
	{"BF16", 16, 0, 0, true, "bf16"},
	{"Q8_0", 8.50, 0.00136, 0.003, true, "q8_0"},
	{"Q6_K", 6.56, 0.00545, 0.022, true, "q6_K"},
	{"Q5_K_M", 5.70, 0.0108, 0.057, true, "q5_K_M"},
	{"Q5_K_S", 5.57, 0.0150, 0.090, false, "q5_K_S"},
	{"Q5_0", 5.54, 0.0222, 0.132, true, "q5_0"},
	{"Q4_K_M", 4.89, 0.0313, 0.175, true, "q4_K_M"},
	// MXFP4: 4-bit values with one shared 8-bit scale per 32 (gpt-oss ships
	// its experts in it); no KL measurement against F16 is published.
	{"MXFP4", 4.25, 0.0313, 0.175, false, "mxfp4"},
	{"IQ4_XS", 4.46, 0.0363, 0.22, true, "iq4_XS"},
	{"Q4_K_S", 4.67, 0.0431, 0.269, true, "q4_K_S"},
	{"Q4_0", 4.55, 0.0719, 0.469, true, "q4_0"},
	{"Q3_K_L", 4.30, 0.0872, 0.556, true, "q3_K_L"},
	{"IQ3_M", 3.76, 0.095, 0.60, false, "iq3_M"},
	{"Q3_K_M", 3.91, 0.1019, 0.657, true, "q3_K_M"},
	{"Q3_K_S", 3.64, 0.228, 1.63, true, "q3_K_S"},
	{"Q2_K", 3.16, 0.445, 3.52, true, "q2_K"},
}

var byName = func() map[string]Type {
	m := map[string]Type{}
	for _, t := range types {
		m[strings.ToUpper(t.Name)] = t
	}
	m["FP16"] = m["F16"]
	m["FP32"] = m["F32"]
	return m
}()

// Lookup finds a quant by name, case-insensitively ("q5_k_m", "fp16").
func Lookup(name string) (Type, bool) {
	t, ok := byName[strings.ToUpper(strings.TrimSpace(name))]
	return t, ok
}

// MustLookup is Lookup for names already validated.
func MustLookup(name string) Type {
	t, ok := Lookup(name)
	if !ok {
		panic("quant: unknown type " + name)
	}
	return t
}

// Canonical returns the canonical spelling, or an error listing the known names.
func Canonical(name string) (string, error) {
	if t, ok := Lookup(name); ok {
		return t.Name, nil
	}
	return "", fmt.Errorf("unknown quantization %q (known: %s)", name, strings.Join(Names(), ", "))
}

// Names returns the canonical names, best quality first.
func Names() []string {
	out := make([]string, len(types))
	for i, t := range types {
		out[i] = t.Name
	}
	return out
}

// Practical returns the quants a planner should consider for a GPU model,
// smallest quality loss first: the K-quants and Q8_0 that Ollama and
// Hugging Face publish for nearly every model.
func Practical() []Type {
	var out []Type
	for _, n := range []string{"Q8_0", "Q6_K", "Q5_K_M", "Q4_K_M", "Q3_K_M", "Q2_K"} {
		out = append(out, byName[n])
	}
	return out
}

// KVType is an element type of the KV cache.
type KVType struct {
	Name string
	// Bytes per element, block overhead included (q8_0: 34 bytes per 32).
	Bytes float64
}

var kvTypes = map[string]KVType{
	"f16":  {"f16", 2},
	"q8_0": {"q8_0", 34.0 / 32},
	"q4_0": {"q4_0", 18.0 / 32},
	"f32":  {"f32", 4},
}

// LookupKV finds a KV cache type (f16, q8_0, q4_0, f32).
func LookupKV(name string) (KVType, error) {
	if name == "" {
		return kvTypes["f16"], nil
	}
	t, ok := kvTypes[strings.ToLower(name)]
	if !ok {
		return KVType{}, fmt.Errorf("unknown KV cache type %q (known: f16, q8_0, q4_0)", name)
	}
	return t, nil
}
