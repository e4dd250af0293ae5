package admin

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"

	"github.com/tabkit/tabkit/store"
)

// HeaderName is the request header every unsafe request to Handler must
// carry (with any value). Browsers cannot send it cross-site without a
// CORS preflight, which Handler never grants, so a web page cannot make a
// browser on the operator's machine delete sessions.
const HeaderName = "X-Tabkit-Admin"

// Handler serves the operations on st over HTTP; see Admin.Handler.
func Handler(st store.Store) http.Handler { return New(st).Handler() }

// Handler serves the operations over HTTP with JSON responses, under
// /admin/:
//
//	GET    /admin/sessions              []Session
//	GET    /admin/sessions?principal=P  []Session of principal P
//	GET    /admin/sessions/{id}         Detail (full ID or unique prefix)
//	DELETE /admin/sessions/{id}         Session
//	POST   /admin/end?principal=P       {"principal": P, "ended": n}
//	GET    /admin/stats                 Stats
//	POST   /admin/gc                    SweepResult
//	POST   /admin/clear?force=1         {"deleted": n}
//	POST   /admin/compact               CompactResult
//	POST   /admin/rekey                 RekeyResult
//
// Errors are {"error": message, "code": code} with the codes of
// errorCodes. Serve it on a loopback address only: it has no
// authentication, and it shows session data.
func (a *Admin) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /admin/sessions", func(w http.ResponseWriter, r *http.Request) {
		reply(w, r, func(ctx context.Context) (any, error) {
			if q := r.URL.Query(); q.Has("principal") {
				return a.SessionsOf(ctx, q.Get("principal"))
			}
			return a.Sessions(ctx)
		})
	})
	mux.HandleFunc("POST /admin/end", func(w http.ResponseWriter, r *http.Request) {
		reply(w, r, func(ctx context.Context) (any, error) {
			p := r.URL.Query().Get("principal")
			n, err := a.EndSessionsOf(ctx, p)
			return endResult{Principal: p, Ended: n}, err
		})
	})
	mux.HandleFunc("POST /admin/rekey", func(w http.ResponseWriter, r *http.Request) {
		reply(w, r, func(ctx context.Context) (any, error) { return a.Rekey(ctx) })
	})
	mux.HandleFunc("GET /admin/sessions/{id}", func(w http.ResponseWriter, r *http.Request) {
		reply(w, r, func(ctx context.Context) (any, error) { return a.Show(ctx, r.PathValue("id")) })
	})
	mux.HandleFunc("DELETE /admin/sessions/{id}", func(w http.ResponseWriter, r *http.Request) {
		reply(w, r, func(ctx context.Context) (any, error) { return a.Delete(ctx, r.PathValue("id")) })
	})
	mux.HandleFunc("GET /admin/stats", func(w http.ResponseWriter, r *http.Request) {
		reply(w, r, func(ctx context.Context) (any, error) { return a.Stats(ctx) })
	})
	mux.HandleFunc("POST /admin/gc", func(w http.ResponseWriter, r *http.Request) {
		reply(w, r, func(ctx context.Context) (any, error) { return a.GC(ctx) })
	})
	mux.HandleFunc("POST /admin/clear", func(w http.ResponseWriter, r *http.Request) {
		reply(w, r, func(ctx context.Context) (any, error) {
			n, err := a.Clear(ctx, r.URL.Query().Get("force") == "1")
			return clearResult{Deleted: n}, err
		})
	})
	mux.HandleFunc("POST /admin/compact", func(w http.ResponseWriter, r *http.Request) {
		reply(w, r, func(ctx context.Context) (any, error) { return a.Compact(ctx) })
	})
	return guard(mux)
}

type clearResult struct {
	Deleted int `json:"deleted"`
}

type endResult struct {
	Principal string `json:"principal"`
	Ended     int    `json:"ended"`
}

// errorBody is what Handler answers on error.
type errorBody struct {
	Error string `json:"error"`
	Code  string `json:"code"`
}

// errorCodes name the errors a client branches on, with their status.
var errorCodes = []struct {
	err    error
	code   string
	status int
}{
	{ErrNotFound, "not_found", http.StatusNotFound},
	{ErrAmbiguous, "ambiguous", http.StatusConflict},
	{ErrShortPrefix, "short_prefix", http.StatusBadRequest},
	{ErrNoPrincipal, "no_principal", http.StatusBadRequest},
	{ErrRefused, "refused", http.StatusBadRequest},
	{ErrUnsupported, "unsupported", http.StatusNotImplemented},
	{store.ErrFull, "full", http.StatusServiceUnavailable},
	{store.ErrUnavailable, "unavailable", http.StatusServiceUnavailable},
	{store.ErrClosed, "closed", http.StatusServiceUnavailable},
}

func reply(w http.ResponseWriter, r *http.Request, op func(ctx context.Context) (any, error)) {
	v, err := op(r.Context())
	if err != nil {
		status, body := http.StatusInternalServerError, errorBody{Error: err.Error(), Code: "failed"}
		for _, c := range errorCodes {
			if errors.Is(err, c.err) {
				status, body.Code = c.status, c.code
				break
			}
		}
		writeJSON(w, status, body)
		return
	}
	writeJSON(w, http.StatusOK, v)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}

// guard refuses requests a browser could have been tricked into: unsafe
// methods without HeaderName, and any request whose Host is a DNS name
// other than localhost, which is what a DNS-rebinding page would send.
func guard(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !localHost(r.Host) {
			writeJSON(w, http.StatusForbidden, errorBody{Error: "admin: Host must be an IP address or localhost", Code: "forbidden"})
			return
		}
		if r.Method != http.MethodGet && r.Method != http.MethodHead && r.Header.Get(HeaderName) == "" {
			writeJSON(w, http.StatusForbidden, errorBody{Error: "admin: unsafe request without the " + HeaderName + " header", Code: "forbidden"})
			return
		}
		next.ServeHTTP(w, r)
	})
}

func localHost(hostport string) bool {
	host, _, err := net.SplitHostPort(hostport)
	if err != nil {
		host = hostport
	}
	return host == "localhost" || net.ParseIP(host) != nil
}
