package plan

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/switchyard/switchyard/internal/estimate"
)

// WriteText renders the report for a terminal. Sizes are GiB.
func (r *Report) WriteText(w io.Writer) error {
	ew := &errWriter{w: w}
	p := ew.printf
	p("Strategy: %s\n", r.Source)
	preset := ""
	if r.GPU.Preset != "" {
		preset = " (" + r.GPU.Preset + ")"
	}
	p("GPU: %s%s, %d MiB; budget %.2f GiB; longest context solved with %.0f%% headroom\n",
		r.GPU.Name, preset, r.GPU.VRAMMiB, gib(r.BudgetBytes), r.Headroom*100)
	if len(r.Models) > 0 {
		b := r.Models[0].Breakdown
		p("Assumed: flash attention %s, KV cache %s, %d parallel slot(s), runtime %s\n", onOff(b.FlashAttention), b.KVType, b.Parallel, b.Runtime)
	}

	p("\nModels (GiB)\n")
	tw := tabwriter.NewWriter(ew, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "MODEL\tQUANT\tCTX\tWEIGHTS\tKV\tCOMPUTE+OVH\tTOTAL\tVRAM\tVERDICT\tMAX CTX\tPULL")
	for _, m := range r.Models {
		b := m.Breakdown
		pull := m.Pull.Ref
		if pull == "" {
			pull = "-"
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%.2f\t%.2f\t%.2f\t%.2f\t%.0f%%\t%s\t%s\t%s\n", m.ID, b.Quant, b.Ctx,
			gib(b.WeightsGPU), gib(b.KV), gib(b.Compute+b.Overhead), gib(b.Total), m.Fraction*100, m.Verdict, ctxText(m.MaxCtx), pull)
	}
	tw.Flush()

	if len(r.Table) > 0 {
		p("\nThe plan's VRAM table recomputed (GiB; the plan's figure in brackets, ! = off by more than %.0f%%)\n", ClaimTolerance*100)
		tw = tabwriter.NewWriter(ew, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "CLASS\tMODEL\tQUANT\tWEIGHTS (FILE)\tWITH 16K\tWITH 4K\tVERDICT 16K / 4K\tCLAIMED\tMAX CTX")
		for _, t := range r.Table {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s / %s\t%s\t%s\n", t.Class, t.Model, t.Quant,
				cellText(t.Weights), cellText(t.Ctx16k), cellText(t.Ctx4k), t.Verdict16k, t.Verdict4k, t.ClaimedFits, ctxText(t.MaxCtx))
		}
		tw.Flush()
	}

	p("\nDisk budget (GiB, the plan's figure in brackets)\n")
	tw = tabwriter.NewWriter(ew, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "MODEL\tQUANT\tON DISK\tCUMULATIVE")
	for _, d := range r.Disk.Rows {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%.2f\n", d.ID, d.Quant, cellText(Cell{Bytes: d.Bytes, ClaimGB: d.ClaimGB, Flag: d.Flag}), gib(d.Cumulative))
	}
	tw.Flush()
	switch {
	case r.Disk.Disk.Err != "":
		p("Models directory %s: %s\n", r.Disk.Disk.Dir, r.Disk.Disk.Err)
	case !r.Disk.Disk.Exists:
		p("Models directory %s: absent (free space unknown)\n", r.Disk.Disk.Dir)
	default:
		p("Models directory %s: %.1f GiB free, plan needs %.1f GiB\n", r.Disk.Disk.Dir, gib(r.Disk.Disk.FreeBytes), gib(r.Disk.Total))
	}

	p("\nCo-resident sets that fit (largest first)\n")
	if len(r.CoResident) == 0 {
		p("  none: the pinned models alone do not fit\n")
	}
	for _, s := range r.CoResident {
		p("  %-60s %.2f GiB (%.0f%%)\n", strings.Join(s.Members, " + "), gib(s.Total), s.Fraction*100)
	}

	if len(r.Pairs) > 0 {
		p("\nCan two daily drivers share the GPU (with the pinned models)?\n")
		for _, pr := range r.Pairs {
			answer := fmt.Sprintf("yes, %.2f GiB", gib(pr.Total))
			if !pr.Fits {
				answer = "no: " + pr.Why
			}
			p("  %-40s %s\n", pr.A+" + "+pr.B, answer)
		}
	}

	p("\nPersonas\n")
	tw = tabwriter.NewWriter(ew, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "PERSONA\tBASE MODEL\tCTX\tTOTAL\tVERDICT\tNOTE")
	for _, pr := range r.Personas {
		model, total, verdict := pr.Model, "-", string(pr.Verdict)
		if model == "" {
			model, verdict = "-", "-"
		} else {
			total = fmt.Sprintf("%.2f", gib(pr.Total))
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%s\t%s\n", pr.Name, model, pr.Ctx, total, verdict, pr.Note)
	}
	tw.Flush()

	p("\nWarnings (%d)\n", len(r.Warnings))
	for _, w := range r.Warnings {
		p("  - %s\n", w)
	}
	return ew.err
}

func cellText(c Cell) string {
	if c.ClaimGB == 0 {
		return fmt.Sprintf("%.2f", gib(c.Bytes))
	}
	flag := ""
	if c.Flag {
		flag = " !"
	}
	return fmt.Sprintf("%.2f [%.1f%s]", gib(c.Bytes), c.ClaimGB, flag)
}

func onOff(b bool) string {
	if b {
		return "on"
	}
	return "off"
}

// WriteBreakdown renders one estimate (for `switchyard fit`).
func WriteBreakdown(w io.Writer, name string, b estimate.Breakdown, vramBytes int64, maxCtx int) error {
	ew := &errWriter{w: w}
	p := ew.printf
	p("%s at %s, context %d × %d slot(s), KV %s, flash attention %s\n", name, b.Quant, b.Ctx, b.Parallel, b.KVType, onOff(b.FlashAttention))
	tw := tabwriter.NewWriter(ew, 0, 0, 2, ' ', tabwriter.AlignRight)
	row := func(label string, bytes int64, note string) {
		fmt.Fprintf(tw, "  %s\t%8.0f MiB\t%6.2f GiB\t %s\n", label, float64(bytes)/estimate.MiB, gib(bytes), note)
	}
	row("file on disk", b.FileBytes, "weights source: "+b.WeightsSource)
	row("weights on GPU", b.WeightsGPU, "")
	row("weights in RAM", b.WeightsHost, "token embeddings stay on the CPU")
	row("KV cache", b.KV, b.KVKind)
	row("compute buffer", b.Compute, "")
	row("runtime overhead", b.Overhead, "CUDA context and workspaces")
	row("total on GPU", b.Total, fmt.Sprintf("%.0f%% of %d MiB", frac(b.Total, vramBytes)*100, vramBytes/estimate.MiB))
	tw.Flush()
	p("Verdict: %s. Longest context that fits: %s\n", estimate.Judge(b.Total, vramBytes), ctxText(maxCtx))
	for _, n := range b.Notes {
		p("Note: %s\n", n)
	}
	return ew.err
}

type errWriter struct {
	w   io.Writer
	err error
}

func (e *errWriter) Write(b []byte) (int, error) {
	if e.err != nil {
		return 0, e.err
	}
	n, err := e.w.Write(b)
	e.err = err
	return n, err
}

func (e *errWriter) printf(format string, a ...any) { fmt.Fprintf(e, format, a...) }
