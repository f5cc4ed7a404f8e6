// Package gateway serves the Ollama API and the OpenAI API in front of one
// upstream Ollama, applying the strategy's personas. Every upstream call
// goes through a dispatch.Dispatcher (the scheduler's seat).
//
// Endpoints:
//
//	POST /api/chat, /api/generate   persona applied; NDJSON stream or one object
//	POST /api/embed, /api/embeddings persona applied (keep-alive, options)
//	GET  /api/tags                  upstream models, then personas (base model's size/details, own digest)
//	GET  /api/ps, /api/version       proxied unchanged
//	POST /api/show                  persona: base model's answer + its system, parameters, Modelfile, "switchyard"
//	POST /v1/chat/completions, /v1/completions, /v1/embeddings
//	                                carried to /api/chat, /api/generate, /api/embed (so num_ctx and keep_alive apply)
//	GET  /v1/models, /v1/models/{id} personas, then upstream models
//	GET  /healthz (alive), /readyz (upstream reachable), /metrics (Prometheus)
//	pull, push, create, copy, delete, blobs: 403 unless Config.AllowAdmin, then proxied unchanged
//
// Rules:
//   - System prompt: chat gets the persona's system message first unless the
//     request has a system (or developer) message of its own; generate gets
//     "system" unless the request set a non-empty one.
//   - Options: persona parameters, overridden key by key by the request's.
//     num_ctx is fixed by the persona (its context, else its model's); a
//     request may only lower it. Plain model names pass through untouched.
//   - keep_alive: the request's if given, else persona → model → -1 for a
//     pinned model → hardware default.
//   - Prompt size: tokens ≈ text bytes / 4 (chat: all message contents;
//     embed: the longest input); more than PromptFactor (4) × num_ctx (or
//     DefaultContext for plain models) is refused with 400
//     (context_length_exceeded) before anything goes upstream. Bodies over
//     MaxBodyBytes (8 MiB) get 413 without being read.
//   - Errors come in the API's own shape: {"error":"..."} for Ollama paths,
//     {"error":{"message","type","param","code"}} for /v1. A stream that
//     fails part-way ends with {"error":"..."} (NDJSON) or a data: error
//     event without [DONE] (SSE). Upstream unreachable: 503 + Retry-After.
//     No first byte within FirstByteTimeout: 504; a gap over IdleTimeout
//     mid-stream ends the stream with an error.
//   - Headers: X-Switchyard-Persona, X-Switchyard-Model, X-Switchyard-Queue-Ms;
//     X-Switchyard-Load-Ms is a header for one-object answers and an HTTP
//     trailer for streams (known only at the end).
package gateway
