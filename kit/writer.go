package kit

import (
	"bufio"
	"compress/flate"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"

	"github.com/tabkit/tabkit/tabs"
)

// errResponseReplaced is returned by Write after a failed commit replaced
// the handler's response with an error page.
var errResponseReplaced = errors.New("kit: response replaced by an error page because the session could not be saved")

// responseWriter commits the session before the first byte of the
// response leaves, and streams a tab's HTML through the link rewriter.
type responseWriter struct {
	http.ResponseWriter
	q *request

	// rewrite says the response belongs to a tab and may need prefixes.
	rewrite bool
	// body is where the handler's bytes go once the header is out: the
	// writer underneath, or a rewriting pipeline in front of it.
	body io.Writer
	// closers end the pipeline's stages, first to last.
	closers []io.Closer

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
	q := w.q
	if failure := q.finish(status); failure != nil {
		w.replace(failure)
		return
	}
	q.setCookie(w.Header())
	w.body = w.ResponseWriter
	if w.rewrite {
		if failure := w.prepareRewrite(status); failure != nil {
			w.replace(failure)
			return
		}
	}
	w.ResponseWriter.WriteHeader(status)
}

// finishUnwritten ends a request whose handler wrote nothing.
func (w *responseWriter) finishUnwritten() {
	w.wroteHeader = true
	q := w.q
	if failure := q.finish(http.StatusOK); failure != nil {
		w.replace(failure)
		return
	}
	q.setCookie(w.Header())
	if w.rewrite {
		w.prefixHeaders(http.StatusOK)
	}
}

// replace answers with failure instead of the handler's response,
// through Config.ErrorHandler. The handler's headers are dropped; the
// cookie still follows what took effect before the failure.
func (w *responseWriter) replace(failure *Error) {
	w.replaced = true
	q := w.q
	h := w.Header()
	for k := range h {
		delete(h, k)
	}
	q.setCookie(h)
	setOwnPageHeaders(h, failure)
	if q.ec != nil {
		q.ec.Response().Status = failure.Status
	}
	q.m.logFailure(q, failure)
	q.m.cfg.ErrorHandler(direct{w.ResponseWriter}, q.r, failure)
}

// direct writes to the writer underneath the kit, for the error page
// that replaces a response.
type direct struct{ http.ResponseWriter }

func (d direct) Unwrap() http.ResponseWriter { return d.ResponseWriter }

// prepareRewrite keeps redirects and HTML in the tab: header URLs get the
// prefix, and an HTML body goes through the rewriter, decoded and encoded
// again when a middleware inside the kit compressed it.
func (w *responseWriter) prepareRewrite(status int) *Error {
	w.prefixHeaders(status)
	h := w.Header()
	if !isHTML(h) {
		return nil
	}
	h.Del("Content-Length")
	rw, tab := w.q.m.rewriter, w.tabID()
	switch encoding := contentEncoding(h); encoding {
	case "":
		html := rw.NewWriter(w.ResponseWriter, tab)
		w.body, w.closers = html, []io.Closer{html}
	case "gzip", "x-gzip", "deflate":
		w.body, w.closers = newRecoder(w.ResponseWriter, encoding, rw, tab)
	default:
		return &Error{Status: http.StatusInternalServerError, Message: "The page could not be prepared for this tab.",
			Err: fmt.Errorf("kit: a tab's HTML arrived encoded as %q, which the kit cannot rewrite; register compression before Install (outside the kit)", encoding)}
	}
	return nil
}

func (w *responseWriter) tabID() tabs.ID {
	tab, _ := w.q.unit.Tab()
	return tab
}

// prefixHeaders keeps the URLs of headers in the tab.
func (w *responseWriter) prefixHeaders(status int) {
	h, rw, tab := w.Header(), w.q.m.rewriter, w.tabID()
	// The header map is read with canonical keys directly: Header.Get
	// would canonicalise on every response.
	for _, key := range urlHeaders {
		if key == "Location" && (status < 300 || status >= 400) && status != http.StatusCreated {
			continue
		}
		if v := h[key]; len(v) > 0 {
			v[0] = rw.Header(tab, key, v[0])
		}
	}
}

// urlHeaders are the response headers whose URLs stay in the tab.
var urlHeaders = tabs.URLHeaders()

func isHTML(h http.Header) bool {
	var ct string
	if v := h["Content-Type"]; len(v) > 0 {
		ct = v[0]
	}
	return strings.HasPrefix(ct, "text/html") || strings.HasPrefix(ct, "application/xhtml+xml")
}

func contentEncoding(h http.Header) string {
	v := h["Content-Encoding"]
	if len(v) == 0 {
		return ""
	}
	encoding := strings.ToLower(strings.TrimSpace(v[0]))
	if encoding == "identity" {
		return ""
	}
	return encoding
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
	return w.body.Write(p)
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
	if !w.wroteHeader {
		w.wroteHeader = true
		if failure := w.q.finish(http.StatusSwitchingProtocols); failure != nil {
			return nil, nil, failure
		}
	}
	return http.NewResponseController(w.ResponseWriter).Hijack()
}

// close ends the rewriting pipeline, flushing its tail.
func (w *responseWriter) close() error {
	var first error
	for _, c := range w.closers {
		if err := c.Close(); err != nil && first == nil {
			first = err
		}
	}
	w.closers = nil
	return first
}

// newRecoder returns a writer that takes a compressed HTML body, as a
// compression middleware inside the kit produced it, and writes it to dst
// rewritten and compressed again. Decoding is pull-based, so it runs on a
// goroutine of its own, fed through a pipe; memory stays bounded.
func newRecoder(dst io.Writer, encoding string, rw *tabs.Rewriter, tab tabs.ID) (io.Writer, []io.Closer) {
	pr, pw := io.Pipe()
	var enc io.WriteCloser
	if encoding == "deflate" {
		enc, _ = flate.NewWriter(dst, flate.DefaultCompression)
	} else {
		enc = gzip.NewWriter(dst)
	}
	html := rw.NewWriter(enc, tab)
	done := make(chan error, 1)
	go func() {
		var dec io.Reader
		var err error
		if encoding == "deflate" {
			dec = flate.NewReader(pr)
		} else {
			dec, err = gzip.NewReader(pr)
		}
		if err == nil {
			_, err = io.Copy(html, dec)
		}
		if cerr := html.Close(); err == nil {
			err = cerr
		}
		if cerr := enc.Close(); err == nil {
			err = cerr
		}
		// Whatever is left unread must not block the writer.
		pr.CloseWithError(err)
		_, _ = io.Copy(io.Discard, pr)
		done <- err
	}()
	return pw, []io.Closer{closerFunc(func() error {
		_ = pw.Close()
		return <-done
	})}
}

type closerFunc func() error

func (f closerFunc) Close() error { return f() }
