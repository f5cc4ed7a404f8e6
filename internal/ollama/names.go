package ollama

import "strings"

// defaultRegistry is the host Ollama assumes for names without one.
const defaultRegistry = "registry.ollama.ai"

// NormalizeName reduces a model reference to the form Ollama stores it
// under, so "qwen3", "qwen3:latest", "library/qwen3:latest" and
// "registry.ollama.ai/library/qwen3:latest" compare equal. Ollama treats
// names case-insensitively, so the result is lower case. Registry hosts
// with a port ("127.0.0.1:5000/library/tiny:v1") keep their host; only the
// default registry and its "library" namespace are dropped, as /api/tags
// shows them.
func NormalizeName(name string) string {
	n := strings.ToLower(strings.TrimSpace(name))
	if n == "" {
		return ""
	}
	// A digest suffix ("name@sha256:...") names the same model.
	if i := strings.Index(n, "@"); i >= 0 {
		n = n[:i]
	}
	slash := strings.LastIndex(n, "/")
	if !strings.Contains(n[slash+1:], ":") {
		n += ":latest"
	}
	parts := strings.Split(n, "/")
	if len(parts) >= 2 && parts[0] == defaultRegistry {
		parts = parts[1:]
	}
	if len(parts) == 2 && parts[0] == "library" {
		parts = parts[1:]
	}
	return strings.Join(parts, "/")
}

// SameModel reports whether two references name the same Ollama model.
func SameModel(a, b string) bool {
	na, nb := NormalizeName(a), NormalizeName(b)
	return na != "" && na == nb
}

// FindName returns the first of names that is the same model as ref.
func FindName(names []string, ref string) (string, bool) {
	for _, n := range names {
		if SameModel(n, ref) {
			return n, true
		}
	}
	return "", false
}
