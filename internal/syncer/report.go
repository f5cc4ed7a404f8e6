package syncer

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/vbauerster/mpb/v8"
	"github.com/vbauerster/mpb/v8/decor"

	"github.com/switchyard/switchyard/internal/ollama"
)

// Describe is the one-line text of an action, as printed before it runs.
func Describe(a Action) string {
	switch a.Kind {
	case Pull:
		s := fmt.Sprintf("pull %s for %s (from %s", a.Ref, a.Model, a.RefSource)
		if a.Bytes > 0 {
			s += ", ~" + Bytes(a.Bytes)
		}
		return s + ")"
	case Create:
		return fmt.Sprintf("create persona %s from %s", a.Persona, a.Ref)
	case Update:
		return fmt.Sprintf("update persona %s (%s)", a.Persona, a.Reason)
	case Delete:
		return fmt.Sprintf("delete %s (%s)", a.Ref, a.Reason)
	}
	r := a.Reason
	if a.Ref != "" && a.Kind == Skip && a.Persona == "" {
		r = a.Ref + ": " + r
	}
	return fmt.Sprintf("skip %s: %s", a.Subject(), r)
}

// blobs tracks every blob of the running pull, for the overall figure.
type blobs struct {
	order []string
	total map[string]int64
	done  map[string]int64
}

func newBlobs() *blobs { return &blobs{total: map[string]int64{}, done: map[string]int64{}} }

func (b *blobs) update(p ollama.Progress) {
	if p.Digest == "" || p.Total <= 0 {
		return
	}
	if _, ok := b.total[p.Digest]; !ok {
		b.order = append(b.order, p.Digest)
	}
	b.total[p.Digest], b.done[p.Digest] = p.Total, p.Completed
}

func (b *blobs) overall() (done, total int64) {
	for d, t := range b.total {
		total += t
		done += b.done[d]
	}
	return done, total
}

func shortDigest(d string) string {
	d = strings.TrimPrefix(d, "sha256:")
	if len(d) > 12 {
		d = d[:12]
	}
	return "sha256:" + d + "…"
}

// LineReporter prints plain lines, for logs and pipes: one per action, and
// per blob at most one progress line every Every (and one when it
// completes).
type LineReporter struct {
	W     io.Writer
	Every time.Duration
	Now   func() time.Time

	blobs  *blobs
	last   map[string]time.Time
	status string
}

func (r *LineReporter) now() time.Time {
	if r.Now != nil {
		return r.Now()
	}
	return time.Now()
}

func (r *LineReporter) Begin(a Action) {
	r.blobs, r.last, r.status = newBlobs(), map[string]time.Time{}, ""
	fmt.Fprintln(r.W, Describe(a))
}

func (r *LineReporter) Progress(a Action, p ollama.Progress) {
	if p.Digest == "" || p.Total <= 0 {
		// Status steps: pulling manifest, verifying, writing manifest.
		if p.Status != r.status && p.Status != "success" {
			r.status = p.Status
			fmt.Fprintf(r.W, "  %s\n", p.Status)
		}
		return
	}
	prev := r.blobs.done[p.Digest]
	r.blobs.update(p)
	finished := p.Completed >= p.Total && prev < p.Total
	if t, seen := r.last[p.Digest]; seen && !finished && r.now().Sub(t) < r.Every {
		return
	}
	if seen := !r.last[p.Digest].IsZero(); seen && p.Completed == prev && !finished {
		return
	}
	r.last[p.Digest] = r.now()
	done, total := r.blobs.overall()
	fmt.Fprintf(r.W, "  pulling %s %s/%s (all blobs %s/%s)\n", shortDigest(p.Digest),
		mib(p.Completed), mib(p.Total), mib(done), mib(total))
}

func (r *LineReporter) End(a Action, err error) {
	if err != nil {
		fmt.Fprintf(r.W, "  failed: %v\n", err)
		return
	}
	fmt.Fprintln(r.W, "  done")
}

func mib(n int64) string { return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20)) }

// BarReporter draws, on a terminal, one bar for the whole pull and one per
// blob (mpb renders several bars at once). The overall total grows as
// Ollama announces blobs, so it is exact once every blob has been seen.
type BarReporter struct {
	W io.Writer

	blobs   *blobs
	p       *mpb.Progress
	overall *mpb.Bar
	bars    map[string]*mpb.Bar
}

func (r *BarReporter) Begin(a Action) {
	fmt.Fprintln(r.W, Describe(a))
	r.blobs, r.bars = newBlobs(), map[string]*mpb.Bar{}
	if a.Kind != Pull {
		return
	}
	r.p = mpb.New(mpb.WithOutput(r.W), mpb.WithWidth(100), mpb.WithRefreshRate(100*time.Millisecond), mpb.WithAutoRefresh())
	r.overall = r.p.New(0, mpb.BarStyle(),
		mpb.PrependDecorators(decor.Name("  all blobs", decor.WCSyncSpaceR)),
		mpb.AppendDecorators(decor.CountersKibiByte("% .1f / % .1f"), decor.Name(" "), decor.Percentage()),
	)
}

func (r *BarReporter) Progress(a Action, p ollama.Progress) {
	if r.p == nil || p.Digest == "" || p.Total <= 0 {
		return
	}
	r.blobs.update(p)
	b, ok := r.bars[p.Digest]
	if !ok {
		b = r.p.New(p.Total, mpb.BarStyle(),
			mpb.PrependDecorators(decor.Name("  "+shortDigest(p.Digest), decor.WCSyncSpaceR)),
			mpb.AppendDecorators(decor.CountersKibiByte("% .1f / % .1f")),
		)
		r.bars[p.Digest] = b
	}
	b.SetCurrent(min(p.Completed, p.Total))
	done, total := r.blobs.overall()
	r.overall.SetTotal(total, false)
	r.overall.SetCurrent(done)
}

// stop completes or aborts every bar and waits for the last render.
func (r *BarReporter) stop(ok bool) {
	if r.p == nil {
		return
	}
	for _, b := range append(barList(r.bars), r.overall) {
		if ok {
			b.SetTotal(-1, true) // complete at the current value
		} else {
			b.Abort(false)
		}
	}
	r.p.Wait()
	r.p = nil
}

func barList(m map[string]*mpb.Bar) []*mpb.Bar {
	out := make([]*mpb.Bar, 0, len(m))
	for _, b := range m {
		out = append(out, b)
	}
	return out
}

func (r *BarReporter) End(a Action, err error) {
	r.stop(err == nil)
	if err != nil {
		fmt.Fprintf(r.W, "  failed: %v\n", err)
		return
	}
	fmt.Fprintln(r.W, "  done")
}
