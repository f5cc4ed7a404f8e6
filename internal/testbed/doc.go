// Package testbed owns starting real external servers (a locally built
// Ollama, Debian's docker-registry) and generating tiny GGUF models, so
// tests across switchyard can exercise real behaviour instead of mocks.
//
// Servers are skipped when their binary is missing unless
// SWITCHYARD_REQUIRE_OLLAMA=1, which turns the skip into a failure (CI).
// Build the binary with scripts/install-ollama.sh.
package testbed
