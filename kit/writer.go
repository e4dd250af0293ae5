package kit

import (
	"bufio"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"
	"github.com/tabkit/tabkit/tabs"
)

// errResponseReplaced is returned by Write after a failed commit replaced
// the handler's response with an error page.
var errResponseReplaced = errors.New("kit: response replaced by an error page because the session could not be saved")

// responseWriter commits the session before the first byte of the
// response leaves, and streams a tab's HTML through the link rewriter.
type responseWriter struct {
	http.ResponseWriter
	st *requestState
	c  echo.Context

	// rewrite says the response belongs to a tab and may need prefixes.
	rewrite bool
	html    *tabs.Writer

	wroteHeader bool
	replaced    bool
}

// Unwrap gives http.NewResponseController the writer underneath.
func (w *responseWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func (w *responseWriter) WriteHeader(status int) {
	if w.wroteHeader {
		return
	}
	w.wroteHeader = true
	if failure := w.st.finish(status); failure != nil {
		w.replace(failure)
		return
	}
	if w.rewrite {
		w.prefixHeaders(status)
	}
	w.ResponseWriter.WriteHeader(status)
}

// replace answers with failure instead of the handler's response. The
// handler's headers are dropped, except that a session cookie change is
// kept out too: nothing was saved.
func (w *responseWriter) replace(failure *Error) {
	w.replaced = true
	h := w.Header()
	for k := range h {
		delete(h, k)
	}
	h.Set("Content-Type", "text/plain; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	if failure.Status == http.StatusServiceUnavailable {
		h.Set("Retry-After", retryAfterSeconds)
	}
	w.c.Response().Status = failure.Status
	w.ResponseWriter.WriteHeader(failure.Status)
	fmt.Fprintf(w.ResponseWriter, "%d %s\n%s\n", failure.Status, http.StatusText(failure.Status), failure.Message)
}

// prefixHeaders keeps redirects in the tab and arranges the HTML rewrite.
func (w *responseWriter) prefixHeaders(status int) {
	h, rw, tab := w.Header(), w.st.m.rewriter, w.st.tab
	// The header map is read with canonical keys directly: Header.Get
	// would canonicalise "HX-Redirect" on every response.
	if status >= 300 && status < 400 {
		prefixHeader(h, "Location", rw, tab)
	}
	prefixHeader(h, "Hx-Redirect", rw, tab)
	prefixHeader(h, "Hx-Location", rw, tab)
	if isHTML(h) && len(h["Content-Encoding"]) == 0 {
		h.Del("Content-Length")
		w.html = rw.NewWriter(w.ResponseWriter, tab)
	}
}

// prefixHeader keeps the URL in header key (canonical form) in the tab.
func prefixHeader(h http.Header, key string, rw *tabs.Rewriter, tab tabs.ID) {
	if v := h[key]; len(v) > 0 && strings.HasPrefix(v[0], "/") {
		v[0] = rw.URL(tab, v[0])
	}
}

func isHTML(h http.Header) bool {
	var ct string
	if v := h["Content-Type"]; len(v) > 0 {
		ct = v[0]
	}
	return strings.HasPrefix(ct, "text/html") || strings.HasPrefix(ct, "application/xhtml+xml")
}

func (w *responseWriter) Write(p []byte) (int, error) {
	if !w.wroteHeader {
		if w.Header().Get("Content-Type") == "" {
			w.Header().Set("Content-Type", http.DetectContentType(p))
		}
		w.WriteHeader(http.StatusOK)
	}
	if w.replaced {
		return 0, errResponseReplaced
	}
	if w.html != nil {
		return w.html.Write(p)
	}
	return w.ResponseWriter.Write(p)
}

// Flush sends what the handler wrote so far. The rewriter may hold back
// an unfinished tag.
func (w *responseWriter) Flush() {
	if !w.wroteHeader {
		w.WriteHeader(http.StatusOK)
	}
	_ = http.NewResponseController(w.ResponseWriter).Flush()
}

// Hijack commits the session, since no header can follow, then hands
// over the connection.
func (w *responseWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	if failure := w.st.finish(http.StatusSwitchingProtocols); failure != nil {
		return nil, nil, failure
	}
	return http.NewResponseController(w.ResponseWriter).Hijack()
}

// close flushes the rewriter's tail.
func (w *responseWriter) close() error {
	if w.html == nil {
		return nil
	}
	err := w.html.Close()
	w.html = nil
	return err
}
