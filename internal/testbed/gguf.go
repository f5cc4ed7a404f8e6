package testbed

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
)

// GGUF metadata value types (GGUF v3 spec).
const (
	ggufUint32  = 4
	ggufInt32   = 5
	ggufFloat32 = 6
	ggufBool    = 7
	ggufString  = 8
	ggufArray   = 9
	ggufUint64  = 10
)

const (
	ggufAlignment = 32
	ggmlTypeF32   = 0
)

// TinySpec describes a tiny random-weight model. Zero fields take defaults
// small enough that Ollama loads the model in well under a second on CPU.
type TinySpec struct {
	Name string // general.name; default "tiny"
	// Arch is "llama" (default; a chat/completion model, served by Ollama's
	// llama.cpp runner) or "bert" (an embedding-only model, served by the
	// Ollama Go engine, with a pooling type so /api/embed accepts it).
	Arch string
	// Seed drives the random weights; distinct seeds give distinct blobs
	// and therefore distinct digests.
	Seed          uint64
	Layers        int // default 2
	Embd          int // default 64
	Heads         int // default 4
	KVHeads       int // default Heads
	FF            int // default 2*Embd
	ContextLength int // default 2048 (llama), 512 (bert)
	Vocab         int // default 300; at least 259 for llama (specials + bytes)
	// Pooling is the bert pooling type: 1 mean (default), 2 CLS.
	Pooling int
}

func (s TinySpec) withDefaults() TinySpec {
	if s.Arch == "" {
		s.Arch = "llama"
	}
	if s.Name == "" {
		s.Name = "tiny"
	}
	if s.Layers == 0 {
		s.Layers = 2
	}
	if s.Embd == 0 {
		s.Embd = 64
	}
	if s.Heads == 0 {
		s.Heads = 4
	}
	if s.KVHeads == 0 {
		s.KVHeads = s.Heads
	}
	if s.FF == 0 {
		s.FF = 2 * s.Embd
	}
	if s.ContextLength == 0 {
		s.ContextLength = 2048
		if s.Arch == "bert" {
			// bert stores a position embedding per context slot, so keep it short.
			s.ContextLength = 512
		}
	}
	if s.Vocab == 0 {
		s.Vocab = 300
	}
	if s.Pooling == 0 {
		s.Pooling = 1
	}
	return s
}

func (s TinySpec) validate() error {
	switch {
	case s.Arch != "llama" && s.Arch != "bert":
		return fmt.Errorf("testbed: unsupported tiny arch %q", s.Arch)
	case s.Embd%s.Heads != 0:
		return fmt.Errorf("testbed: embd %d not divisible by heads %d", s.Embd, s.Heads)
	case s.Heads%s.KVHeads != 0:
		return fmt.Errorf("testbed: heads %d not divisible by kv heads %d", s.Heads, s.KVHeads)
	case s.Arch == "llama" && s.Vocab < 259:
		return fmt.Errorf("testbed: llama vocab %d < 259 (3 specials + 256 byte tokens)", s.Vocab)
	case s.Arch == "bert" && s.Vocab < 64:
		return fmt.Errorf("testbed: bert vocab %d < 64", s.Vocab)
	}
	return nil
}

type kv struct {
	key string
	val any // uint32, int32, float32, bool, string, uint64, []string, []float32, []int32
}

type tensor struct {
	name string
	dims []uint64 // GGUF order: dims[0] is the contiguous (row) dimension
	data []float32
}

// WriteTinyModel writes a complete GGUF v3 file for spec to w.
func WriteTinyModel(w io.Writer, spec TinySpec) error {
	spec = spec.withDefaults()
	if err := spec.validate(); err != nil {
		return err
	}
	rng := rand.New(rand.NewPCG(spec.Seed, spec.Seed^0x5eed5eed))
	var kvs []kv
	var ts []tensor
	if spec.Arch == "bert" {
		kvs, ts = bertModel(spec, rng)
	} else {
		kvs, ts = llamaModel(spec, rng)
	}
	var params uint64
	for _, t := range ts {
		params += uint64(len(t.data))
	}
	kvs = append([]kv{
		{"general.architecture", spec.Arch},
		{"general.name", spec.Name},
		{"general.file_type", uint32(0)}, // ALL_F32
		{"general.parameter_count", params},
		{"general.alignment", uint32(ggufAlignment)},
	}, kvs...)
	return encodeGGUF(w, kvs, ts)
}

// WriteTinyModelFile writes the model to path (creating parent directories).
func WriteTinyModelFile(path string, spec TinySpec) (err error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	defer func() {
		if cerr := f.Close(); err == nil {
			err = cerr
		}
	}()
	return WriteTinyModel(f, spec)
}

func llamaModel(s TinySpec, rng *rand.Rand) ([]kv, []tensor) {
	headDim := s.Embd / s.Heads
	kvDim := uint64(headDim * s.KVHeads)
	e, ff, v := uint64(s.Embd), uint64(s.FF), uint64(s.Vocab)
	tokens, scores, types := llamaVocab(s.Vocab)
	kvs := []kv{
		{"llama.context_length", uint32(s.ContextLength)},
		{"llama.embedding_length", uint32(s.Embd)},
		{"llama.block_count", uint32(s.Layers)},
		{"llama.feed_forward_length", uint32(s.FF)},
		{"llama.attention.head_count", uint32(s.Heads)},
		{"llama.attention.head_count_kv", uint32(s.KVHeads)},
		{"llama.attention.key_length", uint32(headDim)},
		{"llama.attention.value_length", uint32(headDim)},
		{"llama.attention.layer_norm_rms_epsilon", float32(1e-5)},
		{"llama.rope.dimension_count", uint32(headDim)},
		{"llama.rope.freq_base", float32(10000)},
		{"llama.vocab_size", uint32(s.Vocab)},
		{"tokenizer.ggml.model", "llama"},
		{"tokenizer.ggml.pre", "default"},
		{"tokenizer.ggml.tokens", tokens},
		{"tokenizer.ggml.scores", scores},
		{"tokenizer.ggml.token_type", types},
		{"tokenizer.ggml.unknown_token_id", uint32(0)},
		{"tokenizer.ggml.bos_token_id", uint32(1)},
		{"tokenizer.ggml.eos_token_id", uint32(2)},
		{"tokenizer.ggml.add_bos_token", true},
		{"tokenizer.ggml.add_eos_token", false},
	}
	// The output projection is omitted: llama.cpp ties it to token_embd,
	// which keeps the default model under 0.5 MB.
	ts := []tensor{randT(rng, "token_embd.weight", e, v)}
	for i := 0; i < s.Layers; i++ {
		p := fmt.Sprintf("blk.%d.", i)
		ts = append(ts,
			onesT(p+"attn_norm.weight", e),
			randT(rng, p+"attn_q.weight", e, e),
			randT(rng, p+"attn_k.weight", e, kvDim),
			randT(rng, p+"attn_v.weight", e, kvDim),
			randT(rng, p+"attn_output.weight", e, e),
			onesT(p+"ffn_norm.weight", e),
			randT(rng, p+"ffn_gate.weight", e, ff),
			randT(rng, p+"ffn_up.weight", e, ff),
			randT(rng, p+"ffn_down.weight", ff, e),
		)
	}
	ts = append(ts, onesT("output_norm.weight", e))
	return kvs, ts
}

func bertModel(s TinySpec, rng *rand.Rand) ([]kv, []tensor) {
	e, ff, v := uint64(s.Embd), uint64(s.FF), uint64(s.Vocab)
	tokens, types := bertVocab(s.Vocab)
	kvs := []kv{
		{"bert.context_length", uint32(s.ContextLength)},
		{"bert.embedding_length", uint32(s.Embd)},
		{"bert.block_count", uint32(s.Layers)},
		{"bert.feed_forward_length", uint32(s.FF)},
		{"bert.attention.head_count", uint32(s.Heads)},
		{"bert.attention.head_count_kv", uint32(s.KVHeads)},
		{"bert.attention.layer_norm_epsilon", float32(1e-12)},
		{"bert.attention.causal", false},
		// pooling_type is what makes Ollama classify the model as "embedding".
		{"bert.pooling_type", uint32(s.Pooling)},
		{"tokenizer.ggml.model", "bert"},
		{"tokenizer.ggml.tokens", tokens},
		{"tokenizer.ggml.token_type", types},
		{"tokenizer.ggml.padding_token_id", uint32(0)},
		{"tokenizer.ggml.unknown_token_id", uint32(1)},
		{"tokenizer.ggml.cls_token_id", uint32(2)},
		{"tokenizer.ggml.separator_token_id", uint32(3)},
		{"tokenizer.ggml.mask_token_id", uint32(4)},
		{"tokenizer.ggml.add_bos_token", true},
		{"tokenizer.ggml.add_eos_token", true},
	}
	kvDim := uint64(s.Embd / s.Heads * s.KVHeads)
	ts := []tensor{
		randT(rng, "token_embd.weight", e, v),
		randT(rng, "token_types.weight", e, 2),
		randT(rng, "position_embd.weight", e, uint64(s.ContextLength)),
		onesT("token_embd_norm.weight", e),
		zerosT("token_embd_norm.bias", e),
	}
	for i := 0; i < s.Layers; i++ {
		p := fmt.Sprintf("blk.%d.", i)
		ts = append(ts,
			randT(rng, p+"attn_q.weight", e, e), zerosT(p+"attn_q.bias", e),
			randT(rng, p+"attn_k.weight", e, kvDim), zerosT(p+"attn_k.bias", kvDim),
			randT(rng, p+"attn_v.weight", e, kvDim), zerosT(p+"attn_v.bias", kvDim),
			randT(rng, p+"attn_output.weight", e, e), zerosT(p+"attn_output.bias", e),
			onesT(p+"attn_output_norm.weight", e), zerosT(p+"attn_output_norm.bias", e),
			randT(rng, p+"ffn_up.weight", e, ff), zerosT(p+"ffn_up.bias", ff),
			randT(rng, p+"ffn_down.weight", ff, e), zerosT(p+"ffn_down.bias", e),
			onesT(p+"layer_output_norm.weight", e), zerosT(p+"layer_output_norm.bias", e),
		)
	}
	return kvs, ts
}

// Word pieces shared by both vocabularies; enough that short English
// prompts tokenize into real pieces rather than bytes/[UNK].
var tinyWords = []string{
	"the", "a", "is", "of", "and", "to", "in", "it", "you", "hello", "world",
	"code", "write", "yes", "no", "ok", "hi", "say", "word", "test", "model",
	"user", "assistant", "system", "classify", "this", "text", "story",
}

// llamaVocab builds a SentencePiece-style vocabulary: <unk>, <s>, </s>,
// the 256 byte-fallback tokens llama.cpp requires, then word pieces.
func llamaVocab(n int) ([]string, []float32, []int32) {
	tokens := []string{"<unk>", "<s>", "</s>"}
	types := []int32{2, 3, 3} // UNKNOWN, CONTROL, CONTROL
	for b := 0; b < 256; b++ {
		tokens = append(tokens, fmt.Sprintf("<0x%02X>", b))
		types = append(types, 6) // BYTE
	}
	pieces := []string{"▁"}
	for c := 'a'; c <= 'z'; c++ {
		pieces = append(pieces, string(c))
	}
	for _, w := range tinyWords {
		pieces = append(pieces, "▁"+w)
	}
	seen := map[string]bool{}
	for _, t := range tokens {
		seen[t] = true
	}
	for i := 0; len(tokens) < n; i++ {
		var p string
		if i < len(pieces) {
			p = pieces[i]
		} else {
			p = fmt.Sprintf("▁w%d", i) // filler keeps every token unique
		}
		if seen[p] {
			continue
		}
		seen[p] = true
		tokens = append(tokens, p)
		types = append(types, 1) // NORMAL
	}
	tokens, types = tokens[:n], types[:n]
	scores := make([]float32, n)
	for i := range scores {
		scores[i] = -float32(i) // earlier pieces win merges
	}
	return tokens, scores, types
}

// bertVocab builds a GGML-style WordPiece vocabulary: word-initial pieces
// carry the "▁" prefix, continuation pieces are bare.
func bertVocab(n int) ([]string, []int32) {
	tokens := []string{"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"}
	types := []int32{3, 2, 3, 3, 3}
	var pieces []string
	for c := 'a'; c <= 'z'; c++ {
		pieces = append(pieces, "▁"+string(c), string(c))
	}
	for c := '0'; c <= '9'; c++ {
		pieces = append(pieces, "▁"+string(c))
	}
	for _, w := range tinyWords {
		pieces = append(pieces, "▁"+w)
	}
	for i := 0; len(tokens) < n; i++ {
		p := fmt.Sprintf("▁w%d", i)
		if i < len(pieces) {
			p = pieces[i]
		}
		tokens = append(tokens, p)
		types = append(types, 1)
	}
	return tokens[:n], types[:n]
}

func randT(rng *rand.Rand, name string, dims ...uint64) tensor {
	t := tensor{name: name, dims: dims, data: make([]float32, count(dims))}
	// Small normal weights keep activations finite through a few layers.
	for i := range t.data {
		t.data[i] = float32(rng.NormFloat64() * 0.02)
	}
	return t
}

func onesT(name string, dims ...uint64) tensor {
	t := zerosT(name, dims...)
	for i := range t.data {
		t.data[i] = 1
	}
	return t
}

func zerosT(name string, dims ...uint64) tensor {
	return tensor{name: name, dims: dims, data: make([]float32, count(dims))}
}

func count(dims []uint64) uint64 {
	n := uint64(1)
	for _, d := range dims {
		n *= d
	}
	return n
}

// ggufWriter accumulates the first error so encoding code stays linear.
type ggufWriter struct {
	w   *bufio.Writer
	n   int64
	err error
}

func (g *ggufWriter) put(v any) {
	if g.err != nil {
		return
	}
	g.err = binary.Write(g.w, binary.LittleEndian, v)
	g.n += int64(binary.Size(v))
}

func (g *ggufWriter) str(s string) {
	g.put(uint64(len(s)))
	if g.err == nil {
		_, g.err = g.w.WriteString(s)
		g.n += int64(len(s))
	}
}

func (g *ggufWriter) pad() {
	for g.n%ggufAlignment != 0 {
		g.put(uint8(0))
	}
}

func (g *ggufWriter) value(v any) {
	switch x := v.(type) {
	case uint32:
		g.put(uint32(ggufUint32))
		g.put(x)
	case int32:
		g.put(uint32(ggufInt32))
		g.put(x)
	case float32:
		g.put(uint32(ggufFloat32))
		g.put(x)
	case bool:
		g.put(uint32(ggufBool))
		g.put(x)
	case uint64:
		g.put(uint32(ggufUint64))
		g.put(x)
	case string:
		g.put(uint32(ggufString))
		g.str(x)
	case []string:
		g.put(uint32(ggufArray))
		g.put(uint32(ggufString))
		g.put(uint64(len(x)))
		for _, s := range x {
			g.str(s)
		}
	case []float32:
		g.put(uint32(ggufArray))
		g.put(uint32(ggufFloat32))
		g.put(uint64(len(x)))
		g.put(x)
	case []int32:
		g.put(uint32(ggufArray))
		g.put(uint32(ggufInt32))
		g.put(uint64(len(x)))
		g.put(x)
	default:
		if g.err == nil {
			g.err = fmt.Errorf("testbed: unsupported gguf value %T", v)
		}
	}
}

func encodeGGUF(w io.Writer, kvs []kv, ts []tensor) error {
	g := &ggufWriter{w: bufio.NewWriter(w)}
	g.put([]byte("GGUF"))
	g.put(uint32(3))
	g.put(uint64(len(ts)))
	g.put(uint64(len(kvs)))
	for _, e := range kvs {
		g.str(e.key)
		g.value(e.val)
	}
	var off uint64
	for _, t := range ts {
		g.str(t.name)
		g.put(uint32(len(t.dims)))
		g.put(t.dims)
		g.put(uint32(ggmlTypeF32))
		g.put(off)
		off += alignUp(uint64(len(t.data)) * 4)
	}
	g.pad()
	for _, t := range ts {
		g.put(t.data)
		g.pad()
	}
	if g.err != nil {
		return g.err
	}
	return g.w.Flush()
}

func alignUp(n uint64) uint64 {
	return (n + ggufAlignment - 1) / ggufAlignment * ggufAlignment
}
