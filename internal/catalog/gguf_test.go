package catalog

import (
	"bytes"
	"encoding/binary"
	"math"
	"os"
	"path/filepath"
	"testing"
)

// ggufWriter builds a minimal GGUF v3 file in memory.
type ggufWriter struct {
	kv      bytes.Buffer
	nKV     uint64
	tensors []ggufTensor
}

type ggufTensor struct {
	name string
	dims []uint64
}

const (
	ggufTypeUint32 = 4
	ggufTypeString = 8
	ggufTypeArray  = 9
	ggmlTypeF32    = 0
	ggufAlign      = 32
)

func putString(b *bytes.Buffer, s string) {
	_ = binary.Write(b, binary.LittleEndian, uint64(len(s)))
	b.WriteString(s)
}

func (w *ggufWriter) str(key, val string) {
	putString(&w.kv, key)
	_ = binary.Write(&w.kv, binary.LittleEndian, uint32(ggufTypeString))
	putString(&w.kv, val)
	w.nKV++
}

func (w *ggufWriter) u32(key string, val uint32) {
	putString(&w.kv, key)
	_ = binary.Write(&w.kv, binary.LittleEndian, uint32(ggufTypeUint32))
	_ = binary.Write(&w.kv, binary.LittleEndian, val)
	w.nKV++
}

func (w *ggufWriter) strings(key string, vals []string) {
	putString(&w.kv, key)
	_ = binary.Write(&w.kv, binary.LittleEndian, uint32(ggufTypeArray))
	_ = binary.Write(&w.kv, binary.LittleEndian, uint32(ggufTypeString))
	_ = binary.Write(&w.kv, binary.LittleEndian, uint64(len(vals)))
	for _, v := range vals {
		putString(&w.kv, v)
	}
	w.nKV++
}

func (w *ggufWriter) tensor(name string, dims ...uint64) {
	w.tensors = append(w.tensors, ggufTensor{name, dims})
}

func f32Bytes(dims []uint64) uint64 {
	n := uint64(4)
	for _, d := range dims {
		n *= d
	}
	return n
}

func alignUp(n uint64) uint64 { return (n + ggufAlign - 1) / ggufAlign * ggufAlign }

func (w *ggufWriter) bytes() []byte {
	var b bytes.Buffer
	b.WriteString("GGUF")
	_ = binary.Write(&b, binary.LittleEndian, uint32(3))
	_ = binary.Write(&b, binary.LittleEndian, uint64(len(w.tensors)))
	_ = binary.Write(&b, binary.LittleEndian, w.nKV)
	b.Write(w.kv.Bytes())
	var off uint64
	for _, t := range w.tensors {
		putString(&b, t.name)
		_ = binary.Write(&b, binary.LittleEndian, uint32(len(t.dims)))
		for _, d := range t.dims {
			_ = binary.Write(&b, binary.LittleEndian, d)
		}
		_ = binary.Write(&b, binary.LittleEndian, uint32(ggmlTypeF32))
		_ = binary.Write(&b, binary.LittleEndian, off)
		off = alignUp(off + f32Bytes(t.dims))
	}
	b.Write(make([]byte, alignUp(uint64(b.Len()))-uint64(b.Len())))
	for _, t := range w.tensors {
		n := f32Bytes(t.dims)
		b.Write(make([]byte, alignUp(n)))
	}
	return b.Bytes()
}

const (
	tEmbd   = 64
	tVocab  = 100
	tHeads  = 8
	tKV     = 2
	tLayers = 2
	tFF     = 128
	tCtx    = 4096
)

func tinyLlama(withOutput bool, fileType int) *ggufWriter {
	w := &ggufWriter{}
	w.str("general.architecture", "llama")
	w.str("general.name", "Tiny Llama")
	w.u32("llama.block_count", tLayers)
	w.u32("llama.embedding_length", tEmbd)
	w.u32("llama.attention.head_count", tHeads)
	w.u32("llama.attention.head_count_kv", tKV)
	w.u32("llama.context_length", tCtx)
	w.u32("llama.feed_forward_length", tFF)
	if fileType >= 0 {
		w.u32("general.file_type", uint32(fileType))
	}
	toks := make([]string, tVocab)
	for i := range toks {
		toks[i] = string(rune('a'+i%26)) + string(rune('a'+i/26))
	}
	w.strings("tokenizer.ggml.tokens", toks)

	w.tensor("token_embd.weight", tEmbd, tVocab)
	w.tensor("blk.0.attn_norm.weight", tEmbd)
	w.tensor("blk.0.attn_q.weight", tEmbd, tEmbd)
	w.tensor("blk.1.attn_q.weight", tEmbd, tEmbd)
	if withOutput {
		w.tensor("output.weight", tEmbd, tVocab)
	}
	return w
}

func writeTemp(t *testing.T, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestFromGGUF(t *testing.T) {
	data := tinyLlama(true, -1).bytes()
	path := writeTemp(t, "tiny.gguf", data)
	info, err := FromGGUF(path)
	if err != nil {
		t.Fatalf("FromGGUF: %v", err)
	}
	m := info.Model
	if m.Arch != "llama" || m.Kind != Dense || m.Name != "Tiny Llama" || m.ID != "tiny-llama" {
		t.Errorf("arch %q kind %q name %q id %q", m.Arch, m.Kind, m.Name, m.ID)
	}
	type g struct{ layers, heads, kv, hd, embd, ff, vocab, ctx int }
	got := g{m.Layers, m.Heads, m.KVHeads, m.HeadDim, m.Embd, m.FF, m.Vocab, m.TrainedCtx}
	want := g{tLayers, tHeads, tKV, tEmbd / tHeads, tEmbd, tFF, tVocab, tCtx}
	if got != want {
		t.Errorf("geometry %+v, want %+v", got, want)
	}
	if m.TiedEmbeddings {
		t.Error("output.weight present, yet reported tied")
	}
	embd := int64(tEmbd * tVocab * 4)
	q := int64(tEmbd * tEmbd * 4)
	norm := int64(tEmbd * 4)
	if info.TokenEmbdBytes != embd || info.OutputBytes != embd {
		t.Errorf("token_embd %d output %d, want %d each", info.TokenEmbdBytes, info.OutputBytes, embd)
	}
	if want := 2*embd + 2*q + norm; info.TensorBytes != want {
		t.Errorf("TensorBytes %d, want %d", info.TensorBytes, want)
	}
	if info.FileBytes != int64(len(data)) {
		t.Errorf("FileBytes %d, want %d", info.FileBytes, len(data))
	}
	if info.FileType != "F32" {
		t.Errorf("FileType %q, want F32 (guessed from the tensors)", info.FileType)
	}
	wantParams := float64(2*tEmbd*tVocab+2*tEmbd*tEmbd+tEmbd) / 1e9
	if math.Abs(m.ParamsB-wantParams) > 1e-15 {
		t.Errorf("ParamsB %g, want %g", m.ParamsB, wantParams)
	}
	if err := m.Validate(); err != nil {
		t.Errorf("model from GGUF does not validate: %v", err)
	}
}

func TestFromGGUFTiedAndFileType(t *testing.T) {
	path := writeTemp(t, "tied.gguf", tinyLlama(false, 15).bytes())
	info, err := FromGGUF(path)
	if err != nil {
		t.Fatalf("FromGGUF: %v", err)
	}
	if !info.Model.TiedEmbeddings || info.OutputBytes != 0 {
		t.Errorf("no output.weight: want tied and OutputBytes 0, got %v and %d", info.Model.TiedEmbeddings, info.OutputBytes)
	}
	if info.FileType != "Q4_K_M" {
		t.Errorf("general.file_type 15: FileType %q, want Q4_K_M", info.FileType)
	}
	if want := int64(tEmbd*tVocab*4 + 2*tEmbd*tEmbd*4 + tEmbd*4); info.TensorBytes != want {
		t.Errorf("TensorBytes %d, want %d", info.TensorBytes, want)
	}
}

func TestFromGGUFRejectsGarbage(t *testing.T) {
	if _, err := FromGGUF(writeTemp(t, "junk.gguf", []byte("not a gguf file at all, sorry"))); err == nil {
		t.Error("garbage accepted")
	}
	data := tinyLlama(true, -1).bytes()
	if _, err := FromGGUF(writeTemp(t, "short.gguf", data[:len(data)-1000])); err == nil {
		t.Error("truncated file accepted")
	}
	if _, err := FromGGUF(filepath.Join(t.TempDir(), "missing.gguf")); err == nil {
		t.Error("missing file accepted")
	}
}
