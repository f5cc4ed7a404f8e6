package syncer

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/switchyard/switchyard/internal/ollama"
)

// Server is what Execute needs from Ollama; *ollama.Client satisfies it
// through ServerFor.
type Server interface {
	Pull(ctx context.Context, ref string, fn func(ollama.Progress)) error
	Create(ctx context.Context, spec ollama.PersonaSpec) error
	Delete(ctx context.Context, name string) error
}

// Reporter hears about each action as it runs.
type Reporter interface {
	Begin(a Action)
	Progress(a Action, p ollama.Progress)
	End(a Action, err error)
}

// Failure is an action that did not succeed.
type Failure struct {
	Action Action `json:"action"`
	Err    string `json:"error"`
}

// Result is what a sync did.
type Result struct {
	Done   []Action  `json:"done"`
	Failed []Failure `json:"failed,omitempty"`
	// NotRun are actions left when the sync was interrupted.
	NotRun      []Action `json:"not_run,omitempty"`
	Interrupted bool     `json:"interrupted,omitempty"`
}

// Execute runs the plan's actions in order. A failed pull is reported and
// the rest continue; personas waiting on that pull are not created (a
// persona on a missing base would make Ollama try to pull the base from its
// default registry). Cancelling ctx stops the running pull; Ollama keeps
// the partial blob, so the next sync resumes it.
func Execute(ctx context.Context, p *Plan, srv Server, rep Reporter) Result {
	var res Result
	failedPulls := map[string]bool{}
	for i, a := range p.Actions {
		if a.Kind == Skip {
			continue
		}
		if ctx.Err() != nil {
			res.Interrupted = true
			for _, rest := range p.Actions[i:] {
				if rest.Kind != Skip {
					res.NotRun = append(res.NotRun, rest)
				}
			}
			break
		}
		if a.After != "" && failedPulls[a.After] {
			err := fmt.Errorf("not created: its base model %s was not pulled", a.After)
			rep.Begin(a)
			rep.End(a, err)
			res.Failed = append(res.Failed, Failure{Action: a, Err: err.Error()})
			continue
		}
		rep.Begin(a)
		var err error
		switch a.Kind {
		case Pull:
			err = srv.Pull(ctx, a.Ref, func(pr ollama.Progress) { rep.Progress(a, pr) })
		case Create, Update:
			if a.Spec == nil {
				err = errors.New("no persona spec")
			} else {
				err = srv.Create(ctx, *a.Spec)
			}
		case Delete:
			err = srv.Delete(ctx, a.Ref)
		default:
			err = fmt.Errorf("unknown action %q", a.Kind)
		}
		rep.End(a, err)
		if err != nil {
			if a.Kind == Pull {
				failedPulls[a.Ref] = true
			}
			if ctx.Err() != nil {
				res.Interrupted = true
				res.NotRun = append(res.NotRun, a)
				continue
			}
			res.Failed = append(res.Failed, Failure{Action: a, Err: err.Error()})
			continue
		}
		res.Done = append(res.Done, a)
	}
	return res
}

// Partial reports whether the sync left something undone that the user must
// look at (exit code 3).
func (r Result) Partial(p *Plan) bool {
	return len(r.Failed) > 0 || r.Interrupted || len(p.Problems()) > 0
}

// Summary is the closing line(s) of a sync.
func (r Result) Summary(p *Plan) string {
	var b strings.Builder
	if !p.Work() && len(p.Problems()) == 0 {
		return "nothing to do: everything the strategy declares is installed and up to date"
	}
	count := map[Kind]int{}
	for _, a := range r.Done {
		count[a.Kind]++
	}
	fmt.Fprintf(&b, "sync: %d pulled, %d personas created, %d updated, %d deleted",
		count[Pull], count[Create], count[Update], count[Delete])
	if n := len(r.Failed); n > 0 {
		fmt.Fprintf(&b, ", %d failed", n)
	}
	if n := len(p.Problems()); n > 0 {
		fmt.Fprintf(&b, ", %d need attention", n)
	}
	for _, f := range r.Failed {
		fmt.Fprintf(&b, "\n  failed: %s: %s", f.Action.Subject(), f.Err)
	}
	for _, a := range p.Problems() {
		fmt.Fprintf(&b, "\n  skipped: %s: %s", a.Subject(), a.Reason)
	}
	if r.Interrupted {
		fmt.Fprintf(&b, "\n  interrupted: %d actions not run; run sync again to resume (Ollama keeps partial downloads)", len(r.NotRun))
	}
	return b.String()
}

// ClientServer adapts *ollama.Client to Server; Insecure allows plain-HTTP
// registries.
type ClientServer struct {
	Client   *ollama.Client
	Insecure bool
}

func (c ClientServer) Pull(ctx context.Context, ref string, fn func(ollama.Progress)) error {
	return c.Client.Pull(ctx, ref, c.Insecure, fn)
}

func (c ClientServer) Create(ctx context.Context, spec ollama.PersonaSpec) error {
	return c.Client.Create(ctx, spec)
}

func (c ClientServer) Delete(ctx context.Context, name string) error {
	return c.Client.Delete(ctx, name)
}
