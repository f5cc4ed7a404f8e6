package ollama

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"time"
)

// Managed records which models switchyard created in which Ollama, so that
// `sync --prune` removes only personas switchyard made and never a user's
// own models. It lives in <state dir>/managed.json, where the state dir is
// $SWITCHYARD_STATE_DIR, else $XDG_STATE_HOME/switchyard, else
// ~/.local/state/switchyard. Entries are keyed by the Ollama base URL
// because one user may sync several servers. Base models are never
// recorded: prune removes a base model only when it is named explicitly.
type Managed struct {
	Version int                     `json:"version"`
	Hosts   map[string]*ManagedHost `json:"hosts"`
	path    string
}

// ManagedHost is one server's personas, by normalized name.
type ManagedHost struct {
	Personas map[string]ManagedPersona `json:"personas"`
}

// ManagedPersona is when and from what a persona was created.
type ManagedPersona struct {
	From    string    `json:"from"`
	Created time.Time `json:"created"`
}

// StateDir is where switchyard keeps state between runs.
func StateDir() (string, error) {
	if d := os.Getenv("SWITCHYARD_STATE_DIR"); d != "" {
		return d, nil
	}
	if d := os.Getenv("XDG_STATE_HOME"); d != "" {
		return filepath.Join(d, "switchyard"), nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("finding the state directory: %w", err)
	}
	return filepath.Join(home, ".local", "state", "switchyard"), nil
}

// LoadManaged reads the state file; a missing file is an empty record.
func LoadManaged() (*Managed, error) {
	dir, err := StateDir()
	if err != nil {
		return nil, err
	}
	return LoadManagedFile(filepath.Join(dir, "managed.json"))
}

// LoadManagedFile reads the record at path.
func LoadManagedFile(path string) (*Managed, error) {
	m := &Managed{Version: 1, Hosts: map[string]*ManagedHost{}, path: path}
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return m, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", path, err)
	}
	if err := json.Unmarshal(b, m); err != nil {
		return nil, fmt.Errorf("reading %s: %w (delete it to start over; prune will then skip personas made before)", path, err)
	}
	if m.Hosts == nil {
		m.Hosts = map[string]*ManagedHost{}
	}
	m.path = path
	return m, nil
}

// Path is the file the record is saved to.
func (m *Managed) Path() string { return m.path }

// Personas lists the managed persona names for host, sorted.
func (m *Managed) Personas(host string) []string {
	h := m.Hosts[host]
	if h == nil {
		return nil
	}
	out := make([]string, 0, len(h.Personas))
	for n := range h.Personas {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// IsManaged reports whether switchyard created name on host.
func (m *Managed) IsManaged(host, name string) bool {
	h := m.Hosts[host]
	if h == nil {
		return false
	}
	_, ok := h.Personas[NormalizeName(name)]
	return ok
}

// Add records a persona switchyard created.
func (m *Managed) Add(host, name, from string, now time.Time) {
	h := m.Hosts[host]
	if h == nil {
		h = &ManagedHost{Personas: map[string]ManagedPersona{}}
		m.Hosts[host] = h
	}
	if h.Personas == nil {
		h.Personas = map[string]ManagedPersona{}
	}
	h.Personas[NormalizeName(name)] = ManagedPersona{From: from, Created: now.UTC()}
}

// Remove forgets a persona (after it was deleted).
func (m *Managed) Remove(host, name string) {
	if h := m.Hosts[host]; h != nil {
		delete(h.Personas, NormalizeName(name))
	}
}

// Save writes the record atomically (temp file + rename), so an
// interrupted sync never leaves a truncated file.
func (m *Managed) Save() error {
	if m.path == "" {
		return errors.New("managed state has no path")
	}
	if err := os.MkdirAll(filepath.Dir(m.path), 0o755); err != nil {
		return err
	}
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(m.path), ".managed-*.json")
	if err != nil {
		return err
	}
	if _, err := tmp.Write(append(b, '\n')); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return err
	}
	if err := tmp.Close(); err != nil {
		os.Remove(tmp.Name())
		return err
	}
	if err := os.Rename(tmp.Name(), m.path); err != nil {
		os.Remove(tmp.Name())
		return err
	}
	return nil
}
