package syncer

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/schollz/progressbar/v3"

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

// BarReporter draws a progress bar per blob on a terminal; each bar's
// description carries the overall progress of the pull.
type BarReporter struct {
	W io.Writer

	blobs *blobs
	bar   *progressbar.ProgressBar
	cur   string
}

func (r *BarReporter) Begin(a Action) {
	r.blobs, r.bar, r.cur = newBlobs(), nil, ""
	fmt.Fprintln(r.W, Describe(a))
}

func (r *BarReporter) Progress(a Action, p ollama.Progress) {
	if p.Digest == "" || p.Total <= 0 {
		return
	}
	r.blobs.update(p)
	if p.Digest != r.cur {
		r.finish()
		r.cur = p.Digest
		r.bar = progressbar.NewOptions64(p.Total,
			progressbar.OptionSetWriter(r.W),
			progressbar.OptionShowBytes(true),
			progressbar.OptionUseIECUnits(true),
			progressbar.OptionSetWidth(30),
			progressbar.OptionThrottle(100*time.Millisecond),
			progressbar.OptionOnCompletion(func() { fmt.Fprintln(r.W) }),
		)
	}
	done, total := r.blobs.overall()
	pct := 0.0
	if total > 0 {
		pct = 100 * float64(done) / float64(total)
	}
	idx := 0
	for i, d := range r.blobs.order {
		if d == p.Digest {
			idx = i + 1
		}
	}
	r.bar.Describe(fmt.Sprintf("  %s [blob %d of %d seen, all %.0f%%]", shortDigest(p.Digest),
		idx, len(r.blobs.order), pct))
	_ = r.bar.Set64(p.Completed)
}

func (r *BarReporter) finish() {
	if r.bar != nil && !r.bar.IsFinished() {
		_ = r.bar.Exit()
		fmt.Fprintln(r.W)
	}
	r.bar = nil
}

func (r *BarReporter) End(a Action, err error) {
	r.finish()
	if err != nil {
		fmt.Fprintf(r.W, "  failed: %v\n", err)
		return
	}
	fmt.Fprintln(r.W, "  done")
}
