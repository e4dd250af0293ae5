package tabs

import (
	"net/http"
	"net/url"
)

// StripPrefix is net/http middleware for applications without Echo: it
// removes a canonical tab prefix from the request path, so that routes are
// registered without it, and stores the tab ID in the request context
// (IDFromContext). A request without a prefix passes through unchanged.
//
// The prefix is read from the path as the client sent it, so "/%31/cart"
// is not tab 1.
func (r *Rewriter) StripPrefix(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		id, n, ok := r.SplitPrefix(req.URL.EscapedPath())
		if !ok {
			next.ServeHTTP(w, req)
			return
		}
		next.ServeHTTP(w, withoutPrefix(req, id, n))
	})
}

// withoutPrefix returns a shallow copy of req with the prefix of tab id,
// n bytes long, removed from its path and id in its context.
func withoutPrefix(req *http.Request, id ID, n int) *http.Request {
	u := new(url.URL)
	*u = *req.URL
	u.Path = stripN(u.Path, n)
	if u.RawPath != "" {
		u.RawPath = stripN(u.RawPath, n)
	}
	r2 := req.WithContext(WithID(req.Context(), id))
	r2.URL = u
	return r2
}

// stripN removes the first n bytes of path, leaving "/" rather than "".
func stripN(path string, n int) string {
	if len(path) <= n {
		return "/"
	}
	return path[n:]
}
