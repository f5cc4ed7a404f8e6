// Package ollama owns switchyard's side of talking to an Ollama server and
// its files: the models directory, the client used by sync and status, and
// the conversions between strategy personas and Ollama's create requests.
package ollama

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
)

// ModelsDir is where Ollama keeps blobs and manifests: $OLLAMA_MODELS, else
// ~/.ollama/models.
func ModelsDir() string {
	if d := os.Getenv("OLLAMA_MODELS"); d != "" {
		return d
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return filepath.Join(".ollama", "models")
	}
	return filepath.Join(home, ".ollama", "models")
}

// DiskFree reports whether dir exists and the bytes free to an unprivileged
// user on its filesystem.
func DiskFree(dir string) (exists bool, free int64, err error) {
	if _, err := os.Stat(dir); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return false, 0, nil
		}
		return false, 0, err
	}
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		return true, 0, err
	}
	return true, int64(st.Bavail) * int64(st.Bsize), nil
}
