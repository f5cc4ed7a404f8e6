package catalog

import (
	"fmt"
	"path/filepath"
	"slices"
	"strings"

	gguf "github.com/gpustack/gguf-parser-go"
)

// GGUFInfo is what a local GGUF file says about a model: its geometry in
// catalog form plus the exact byte counts the estimator can use instead of
// parameters × bits-per-weight.
type GGUFInfo struct {
	// Model holds the geometry read from the metadata. ID is derived from
	// general.name (else the file name); Ollama, HF, Sources and
	// Capabilities are left empty.
	Model Model
	// FileType is the quant name (Q4_K_M, Q8_0, F16...) from general.file_type,
	// else guessed from the dominant tensor type; "" when neither says.
	FileType  string
	FileBytes int64
	// TensorBytes is the sum of all tensor sizes (what has to be loaded).
	TensorBytes int64
	// TokenEmbdBytes is the size of token_embd.weight.
	TokenEmbdBytes int64
	// OutputBytes is the size of output.weight, 0 when the embeddings are tied.
	OutputBytes int64
}

// embeddingArchs are GGUF architectures of non-causal encoders.
var embeddingArchs = []string{
	"bert", "nomic-bert", "nomic-bert-moe", "jina-bert-v2", "jina-bert-v3",
	"neo-bert", "modern-bert", "t5encoder", "gemma-embedding",
}

// FromGGUF reads the header of a GGUF file (or the first shard of a split
// one) and returns its geometry and sizes. Tensor data is not read.
func FromGGUF(path string) (info *GGUFInfo, err error) {
	defer func() {
		// The parser panics on some malformed inputs (unknown tensor types).
		if r := recover(); r != nil {
			info, err = nil, fmt.Errorf("catalog: %s: malformed GGUF: %v", path, r)
		}
	}()
	gf, err := gguf.ParseGGUFFile(path, gguf.SkipLargeMetadata())
	if err != nil {
		return nil, fmt.Errorf("catalog: %s: %w", path, err)
	}
	return fromGGUFFile(gf, path)
}

func fromGGUFFile(gf *gguf.GGUFFile, path string) (*GGUFInfo, error) {
	ga := gf.Architecture()
	if ga.Type != "" && ga.Type != "model" {
		return nil, fmt.Errorf("catalog: %s: GGUF type %q is not a model", path, ga.Type)
	}
	kv := gf.Header.MetadataKV

	var m Model
	m.Arch = ga.Architecture
	if v, ok := kv.Get("general.name"); ok && v.ValueType == gguf.GGUFMetadataValueTypeString {
		m.Name = v.ValueString()
	}
	if m.Name == "" {
		m.Name = strings.TrimSuffix(filepath.Base(path), filepath.Ext(path))
	}
	m.ID = strings.ToLower(strings.NewReplacer(" ", "-", ":", "-", "_", "-").Replace(m.Name))
	if v, ok := kv.Get("general.basename"); ok && v.ValueType == gguf.GGUFMetadataValueTypeString {
		m.Family = v.ValueString()
	}

	m.Layers = int(ga.BlockCount)
	m.Heads = int(ga.AttentionHeadCount)
	m.KVHeads = int(ga.AttentionHeadCountKV)
	m.HeadDim = int(ga.AttentionKeyLength) // the parser falls back to embd/heads
	m.Embd = int(ga.EmbeddingLength)
	if len(ga.FeedForwardLength) > 0 {
		m.FF = int(slices.Max(ga.FeedForwardLength))
	}
	m.Vocab = int(ga.VocabularyLength)
	m.TrainedCtx = int(ga.MaximumContextLength)
	m.Experts = int(ga.ExpertCount)
	m.ExpertsUsed = int(ga.ExpertUsedCount)
	if m.Experts > 0 && ga.ExpertFeedForwardLength > 0 {
		// The catalog keeps the per-expert width for MoE models.
		m.FF = int(ga.ExpertFeedForwardLength)
	}

	// Sliding window: count the layers that use it.
	if ga.AttentionSlidingWindow > 0 {
		swa := 0
		for _, on := range ga.AttentionSlidingWindowLayers {
			if on {
				swa++
			}
		}
		if len(ga.AttentionSlidingWindowLayers) == 0 && ga.AttentionSlidingWindowPattern == 0 {
			swa = m.Layers
		}
		if swa > 0 {
			m.SlidingWindow = int(ga.AttentionSlidingWindow)
			m.SWALayers = swa
		}
	}

	if ga.SSMInnerSize > 0 || ga.SSMStateSize > 0 {
		m.SSM = &SSMGeometry{
			Inner:  int(ga.SSMInnerSize),
			State:  int(ga.SSMStateSize),
			Conv:   int(ga.SSMConvolutionKernel),
			Groups: max(int(ga.SSMGroupCount), 1),
		}
	}
	if ga.AttentionKeyValueLORARank > 0 {
		mla := &MLAGeometry{
			KVLoraRank: int(ga.AttentionKeyValueLORARank),
			RopeDim:    int(ga.RoPEDimensionCount),
			KeyDim:     int(ga.AttentionKeyLength),
			ValueDim:   int(ga.AttentionValueLength),
		}
		if ga.AttentionKeyLengthMLA > 0 {
			// Newer conversions store the compressed head in key_length and
			// the decompressed sizes in key_length_mla / value_length_mla.
			mla.KeyDim = int(ga.AttentionKeyLengthMLA)
			mla.ValueDim = int(ga.AttentionValueLengthMLA)
		}
		m.MLA = mla
	}

	switch {
	case slices.Contains(embeddingArchs, m.Arch) || !ga.AttentionCausal:
		m.Kind = Embedding
	case ga.AttentionHybrid:
		m.Kind = Hybrid
		m.AttnLayers = attentionLayers(ga)
	case ga.AttentionRecurrent:
		m.Kind = SSM
	case m.MLA != nil:
		m.Kind = MLA
	case m.Experts > 0:
		m.Kind = MoE
	default:
		m.Kind = Dense
	}
	if m.Kind != MLA {
		m.MLA = nil
	}
	if m.Kind != SSM && m.Kind != Hybrid {
		m.SSM = nil
	}
	if m.Kind == SSM {
		m.Heads, m.KVHeads, m.HeadDim = 0, 0, 0
	}

	info := &GGUFInfo{FileBytes: int64(gf.Size)}
	var total, expert uint64
	for _, ti := range gf.TensorInfos {
		b := ti.Bytes()
		info.TensorBytes += int64(b)
		n := ti.Elements()
		total += n
		if strings.Contains(ti.Name, "_exps.") {
			expert += n
		}
		switch ti.Name {
		case "token_embd.weight":
			info.TokenEmbdBytes = int64(b)
		case "output.weight":
			info.OutputBytes = int64(b)
		}
	}
	_, hasOutput := gf.TensorInfos.Get("output.weight")
	_, hasEmbd := gf.TensorInfos.Get("token_embd.weight")
	m.TiedEmbeddings = hasEmbd && !hasOutput && m.Kind != Embedding
	m.ParamsB = float64(total) / 1e9
	if m.Experts > 0 && m.ExpertsUsed > 0 && expert > 0 {
		active := float64(total-expert) + float64(expert)*float64(m.ExpertsUsed)/float64(m.Experts)
		m.ActiveParamsB = active / 1e9
	}
	info.FileType = fileTypeName(gf)
	info.Model = m
	return info, nil
}

// attentionLayers counts the layers of a hybrid model that keep a KV cache.
func attentionLayers(ga gguf.GGUFArchitecture) int {
	if len(ga.AttentionHeadCountKVs) > 0 {
		n := 0
		for _, h := range ga.AttentionHeadCountKVs {
			if h > 0 {
				n++
			}
		}
		return n
	}
	if ga.FullAttentionInterval > 0 {
		return int(ga.BlockCount) / int(ga.FullAttentionInterval)
	}
	return 0
}

// fileTypeName is general.file_type as a quant name, else the file type that
// the dominant tensor type implies.
func fileTypeName(gf *gguf.GGUFFile) string {
	ft := gguf.GGUFFileType(1<<32 - 1)
	if v, ok := gf.Header.MetadataKV.Get("general.file_type"); ok && v.ValueType.IsNumeric() {
		ft = gguf.GGUFFileType(gguf.ValueNumeric[uint32](v))
	} else {
		counts := map[gguf.GGMLType]int{}
		for _, ti := range gf.TensorInfos {
			if ti.NDimensions >= 2 && strings.HasSuffix(ti.Name, ".weight") {
				counts[ti.Type]++
			}
		}
		if len(counts) == 0 {
			for _, ti := range gf.TensorInfos {
				counts[ti.Type]++
			}
		}
		if len(counts) > 0 {
			ft = gguf.GetFileType(counts)
		}
	}
	s := ft.String()
	if !strings.HasPrefix(s, "MOSTLY_") {
		return "" // unknown value
	}
	s = strings.TrimPrefix(s, "MOSTLY_")
	if s == "Q4_1_SOME_F16" {
		s = "Q4_1"
	}
	return s
}
