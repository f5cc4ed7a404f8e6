package main

import (
	"github.com/spf13/cobra"

	"github.com/switchyard/switchyard/internal/catalog"
	"github.com/switchyard/switchyard/internal/estimate"
	"github.com/switchyard/switchyard/internal/plan"
	"github.com/switchyard/switchyard/internal/quant"
	"github.com/switchyard/switchyard/internal/strategy"
)

type fitOptions struct {
	quant, kv, gpu, gguf string
	ctx, parallel        int
	fa                   bool
	legacy               bool
}

func newFitCmd(g *globals) *cobra.Command {
	o := &fitOptions{}
	c := &cobra.Command{
		Use:   "fit [MODEL]",
		Short: "Show one model's VRAM breakdown at a quant and context (exit 4 if it does not fit)",
		Long: "MODEL is a strategy model id or a catalog id/name (qwen3-8b, \"Qwen3-8B\", qwen3:8b).\n" +
			"With --gguf, geometry and exact tensor sizes come from a local GGUF file and MODEL may be omitted.",
		Args: cobra.MaximumNArgs(1),
		RunE: func(c *cobra.Command, args []string) error { return runFit(c, g, o, args) },
	}
	c.Flags().StringVar(&o.quant, "quant", "", "quantization (default: the strategy's, else the Ollama default tag's)")
	c.Flags().IntVar(&o.ctx, "ctx", 0, "context tokens per slot (default: the strategy's, else 4096)")
	c.Flags().StringVar(&o.kv, "kv-cache", "", "KV cache type: f16, q8_0, q4_0 (default: the strategy's)")
	c.Flags().BoolVar(&o.fa, "flash-attention", true, "assume flash attention (default: the strategy's)")
	c.Flags().IntVar(&o.parallel, "parallel", 0, "parallel slots (OLLAMA_NUM_PARALLEL; default: the strategy's)")
	c.Flags().StringVar(&o.gpu, "gpu", "", "GPU preset or size (e.g. rtx3060-12g, 16g, detect)")
	c.Flags().StringVar(&o.gguf, "gguf", "", "read geometry and tensor sizes from this GGUF file")
	c.Flags().BoolVar(&o.legacy, "legacy-runtime", false, "size the compute buffer as older llama.cpp did (logits for the whole batch on the GPU)")
	return c
}

// fitResult is the JSON shape of `fit`.
type fitResult struct {
	Model     string             `json:"model"`
	Breakdown estimate.Breakdown `json:"breakdown"`
	VRAMBytes int64              `json:"vram_bytes"`
	Verdict   estimate.Verdict   `json:"verdict"`
	MaxCtx    int                `json:"max_ctx"`
}

func runFit(c *cobra.Command, g *globals, o *fitOptions, args []string) error {
	s, cat, err := g.loadStrategy(c.ErrOrStderr())
	if err != nil {
		return err
	}
	card, err := resolveGPU(o.gpu, s)
	if err != nil {
		return err
	}
	var m *catalog.Model
	var planned *strategy.Model
	var info *catalog.GGUFInfo
	if o.gguf != "" {
		if info, err = catalog.FromGGUF(o.gguf); err != nil {
			return usageErr("--gguf: %v", err)
		}
		m = &info.Model
	}
	if len(args) == 1 {
		if pm, ok := s.Model(args[0]); ok {
			planned = pm
		}
		id := args[0]
		if planned != nil {
			id = planned.CatalogID()
		}
		cm, ok := cat.Get(id)
		if !ok && m == nil {
			return usageErr("unknown model %q; known: %v", args[0], cat.IDs())
		}
		if m == nil {
			m = cm
		}
	}
	if m == nil {
		return usageErr("name a MODEL or give --gguf FILE")
	}

	q := o.quant
	switch {
	case q != "":
	case info != nil && info.FileType != "":
		q = info.FileType
	case planned != nil:
		q = planned.Quant
	case m.Ollama.DefaultQuant != "":
		q = m.Ollama.DefaultQuant
	default:
		q = "Q4_K_M"
	}
	if info == nil {
		if q, err = quant.Canonical(q); err != nil {
			return usageErr("--quant: %v", err)
		}
	}
	ctx := o.ctx
	if ctx == 0 && planned != nil {
		ctx = planned.Context
	}
	if ctx == 0 {
		ctx = 4096
	}
	if ctx < 0 || o.parallel < 0 {
		return usageErr("--ctx and --parallel must be positive")
	}
	opts := plan.Options(s.Hardware, q, ctx)
	if c.Flags().Changed("flash-attention") {
		opts.FlashAttention = o.fa
	}
	if o.kv != "" {
		if _, err := quant.LookupKV(o.kv); err != nil {
			return usageErr("--kv-cache: %v", err)
		}
		opts.KVType = o.kv
	}
	if o.parallel > 0 {
		opts.Parallel = o.parallel
	}
	if o.legacy {
		opts.Runtime = estimate.RuntimeLegacy
	}
	opts.GGUF = info
	b, err := estimate.Estimate(m, opts)
	if err != nil {
		return usageErr("%v", err)
	}
	vram := int64(card.VRAMMiB-s.Hardware.ReserveMiB) * estimate.MiB
	maxCtx, err := estimate.MaxContext(m, opts, int64(float64(vram)*(1-plan.DefaultHeadroom)))
	if err != nil {
		return err
	}
	verdict := estimate.Judge(b.Total, vram)
	if g.json {
		err = writeJSON(c.OutOrStdout(), fitResult{Model: m.ID, Breakdown: b, VRAMBytes: vram, Verdict: verdict, MaxCtx: maxCtx})
	} else {
		err = plan.WriteBreakdown(c.OutOrStdout(), m.Name, b, vram, maxCtx)
	}
	if err != nil {
		return err
	}
	if !verdict.Fits() {
		return withCode(exitNoFit, errNoFit(m.Name, card.Name))
	}
	return nil
}

type noFitError struct{ model, gpu string }

func (e noFitError) Error() string { return e.model + " does not fit on " + e.gpu }

func errNoFit(model, gpu string) error { return noFitError{model, gpu} }
