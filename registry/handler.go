package registry

import (
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"strings"

	"github.com/cairnfs/cairn/registry/cairnpkg"
)

// Handler serves the registry in dir read-only: GET and HEAD of /index.json and of package
// files (*.cairnpkg) below dir, nothing else. Paths are resolved inside dir with os.Root, so
// neither ".." nor a symlink can escape it; names with a component starting with "." (such as
// the temporary files of an atomic write) are not served, nor is anything but a regular file (a
// FIFO named *.cairnpkg is opened without blocking and refused). Responses go through
// http.ServeContent (Range, If-Modified-Since, If-None-Match) with an ETag made from the file's
// size and modification time; the index is served with Cache-Control: no-cache so clients
// revalidate it.
func Handler(dir string) http.Handler {
	return &handler{dir: dir}
}

type handler struct{ dir string }

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	name := strings.TrimPrefix(r.URL.Path, "/")
	var ctype, cache string
	switch {
	case name == IndexFile:
		ctype, cache = "application/json", "no-cache"
	case strings.HasSuffix(name, cairnpkg.Ext):
		ctype, cache = cairnpkg.ContentType, "public, max-age=3600"
	default:
		http.NotFound(w, r)
		return
	}
	if !fs.ValidPath(name) || strings.HasPrefix(name, ".") || strings.Contains(name, "/.") || strings.Contains(name, "\\") {
		http.NotFound(w, r)
		return
	}
	root, err := os.OpenRoot(h.dir)
	if err != nil {
		http.Error(w, "registry unavailable", http.StatusInternalServerError)
		return
	}
	defer root.Close()
	f, err := openNoBlock(root, name)
	if err != nil {
		http.NotFound(w, r)
		return
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil || !fi.Mode().IsRegular() {
		http.NotFound(w, r)
		return
	}
	hd := w.Header()
	hd.Set("Content-Type", ctype)
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("Cache-Control", cache)
	hd.Set("ETag", fmt.Sprintf(`"%x-%x"`, fi.Size(), fi.ModTime().UnixNano()))
	http.ServeContent(w, r, name, fi.ModTime(), f)
}

// Interface guards
var _ http.Handler = (*handler)(nil)
