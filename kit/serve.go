package kit

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/tabkit/tabkit/internal/session"
	"github.com/tabkit/tabkit/tabs"
)

// ForkPath is the endpoint, under a tab's prefix, that tabs.js calls to
// turn a duplicated browser tab into a tab of its own: POST /N/_tabkit/fork.
const ForkPath = "/_tabkit/fork"

// ForkHeader must be present on fork requests. A cross-site page cannot
// send a custom header without a CORS preflight, which the kit never
// grants, so the header is the fork endpoint's CSRF defence.
const ForkHeader = "X-Tabkit-Fork"

// entry says how a request's path addressed a tab.
type entry uint8

const (
	bareEntry   entry = iota // no prefix: "/cart"
	tabEntry                 // "/3/cart"
	newTabEntry              // "/+/cart" or "/3/+/cart": open a new tab there
)

// splitEntry reads the tab prefix of an escaped path: how it addresses a
// tab, which tab, and how many leading bytes the prefix takes. Only the
// canonical form is a tab ("/007/", "/%31/" are not), and "/5" is tab 5
// with nothing after it.
func splitEntry(escaped string, max tabs.ID) (how entry, tab tabs.ID, cut int) {
	if n, ok := newTabPrefix(escaped); ok {
		return newTabEntry, 0, n
	}
	tab, cut, ok := tabs.SplitPrefix(escaped, max)
	if !ok {
		return bareEntry, 0, 0
	}
	if n, ok := newTabPrefix(escaped[cut:]); ok {
		// "/3/+/cart": a tab's rewritten link to "/+/cart".
		return newTabEntry, tab, cut + n
	}
	return tabEntry, tab, cut
}

// newTabPrefix reports whether path starts with the new-tab entry "/+",
// followed by '/' or the end, and its length.
func newTabPrefix(path string) (int, bool) {
	if len(path) < 2 || path[0] != '/' || path[1] != '+' || len(path) > 2 && path[2] != '/' {
		return 0, false
	}
	return 2, true
}

// cutPath removes the first n bytes of u's path: the prefix, which is
// plain ASCII, so the unescaped path loses the same bytes.
func cutPath(path string, n int) string {
	if n > len(path) {
		n = len(path)
	}
	path = path[n:]
	if path == "" || path[0] != '/' {
		return "/" + path
	}
	return path
}

// serve runs one request through the kit. next runs the rest of the
// application; it returns the error an Echo handler returned. inPlace
// says the prefix is cut from r's URL itself (Echo routes on the request
// it was given); otherwise r is copied.
func (m *Manager) serve(w http.ResponseWriter, r *http.Request, inPlace bool, bind func(q *request), next func(q *request) error) error {
	if m.cfg.Skipper != nil && m.cfg.Skipper(r) {
		return next(nil)
	}
	escaped := r.URL.EscapedPath()
	how, tab, cut := splitEntry(escaped, m.cfg.MaxTabID)
	q := &request{m: m, entry: how}
	url := r.URL
	if !inPlace && cut > 0 {
		copied := *r.URL
		url = &copied
	}
	if cut > 0 {
		if url.RawPath != "" {
			url.RawPath = cutPath(url.RawPath, cut)
		}
		url.Path = cutPath(url.Path, cut)
	}
	q.exempt = m.rewriter.IsExempt(url.Path)
	hasTab := how == tabEntry && !q.exempt

	q.Context = r.Context()
	q.r = r.WithContext(q)
	q.r.URL = url
	q.unit.Reset(&m.core, q.r.Context(), m.readTokens(q.tokens[:0], r), tab, hasTab)
	q.sess.q = q
	q.tab.q = q
	q.writer = responseWriter{ResponseWriter: w, q: q, rewrite: hasTab}
	q.out = &q.writer
	if bind != nil {
		bind(q)
	}
	defer func() {
		if p := recover(); p != nil {
			q.unit.Drop()
			panic(p)
		}
	}()
	if !q.exempt && m.route(q, escaped[cut:]) {
		return q.writer.close()
	}
	if err := next(q); err != nil {
		q.unit.Drop()
		if e := errorFor(err); e != nil {
			m.fail(q, e)
		} else if q.ec != nil {
			q.ec.Error(err)
		}
	}
	if !q.writer.wroteHeader {
		q.writer.finishUnwritten()
	}
	return q.writer.close()
}

// route answers what the kit handles itself: bare URLs, new-tab entries,
// forks and tabs this session does not have. rest is the escaped path
// after the prefix. It reports whether the response is written.
func (m *Manager) route(q *request, rest string) bool {
	r := q.r
	safe := r.Method == http.MethodGet || r.Method == http.MethodHead
	switch q.entry {
	case newTabEntry:
		status := http.StatusSeeOther
		if !safe {
			status = http.StatusTemporaryRedirect // method and body kept
		}
		m.redirectToTab(q, session.FreshTab, status, rest, "")
		return true
	case bareEntry:
		if safe && m.isPage(q) {
			m.redirectToTab(q, session.ReuseEmptyTab, http.StatusSeeOther, rest, "")
			return true
		}
		return false
	}
	open, err := q.unit.TabOpen()
	if err != nil {
		m.fail(q, storeFailure(err))
		return true
	}
	if !open {
		tab, _ := q.unit.Tab()
		m.observe(Event{Kind: EventUnknownTab, Handle: q.unit.Handle()})
		m.log.Info("request for a tab this session does not have", "tab", tab, "method", r.Method, "path", r.URL.Path, "remote", r.RemoteAddr)
		if !safe {
			m.fail(q, &Error{Status: http.StatusConflict, Err: ErrUnknownTab,
				Message: "This page belongs to a tab that is no longer open in your session. Nothing was changed; reload the page to continue in a new tab."})
			return true
		}
		m.redirectToTab(q, session.ReuseEmptyTab, http.StatusSeeOther, rest, UnknownTabMessage)
		return true
	}
	if r.URL.Path == ForkPath && r.Method == http.MethodPost {
		m.fork(q)
		return true
	}
	return false
}

// isPage reports whether a bare safe request is for a page worth
// redirecting into a tab: through Echo, a GET route of the app; through
// Wrap, anything that is not exempt.
func (m *Manager) isPage(q *request) bool {
	if q.ec == nil {
		return true
	}
	return m.isEchoPage(q.ec.Echo(), q.r)
}

// redirectToTab sends the browser to rest in a tab the session opens
// (tab 0 without a session), with notice for that tab when set.
func (m *Manager) redirectToTab(q *request, how session.Opening, status int, rest, notice string) {
	tab, err := q.unit.OpenTab(how, nil)
	if err != nil {
		m.fail(q, storeFailure(err))
		return
	}
	if notice != "" {
		if exists, _ := q.unit.Exists(); exists {
			q.unit.MoveToTab(tab)
			if err := q.sess.notify(tab, notice); err != nil {
				m.log.Warn("could not leave a notice in the new tab", "err", err)
			}
		}
	}
	m.redirect(q, status, tabTarget(tab, rest, q.r.URL.RawQuery))
}

// tabTarget builds the kit's own redirect to rest (an escaped path) in
// tab. It always starts "/N/", so no path, however spelled ("//host",
// "/\host", encoded), can send the browser off the host.
func tabTarget(tab tabs.ID, rest, rawQuery string) string {
	var b strings.Builder
	b.Grow(12 + len(rest) + len(rawQuery))
	b.WriteByte('/')
	b.WriteString(strconv.FormatUint(uint64(tab), 10))
	if rest == "" || rest[0] != '/' {
		b.WriteByte('/')
	}
	b.WriteString(rest)
	if rawQuery != "" {
		b.WriteByte('?')
		b.WriteString(rawQuery)
	}
	return b.String()
}

func (m *Manager) redirect(q *request, status int, target string) {
	h := q.out.Header()
	h.Set("Location", target)
	h.Set("Cache-Control", "no-store")
	q.out.WriteHeader(status)
}

// fail answers e through Config.ErrorHandler, with the headers the kit's
// own pages carry.
func (m *Manager) fail(q *request, e *Error) {
	if q.writer.wroteHeader {
		m.log.Error("request failed after its response started", "status", e.Status, "path", q.r.URL.Path, "err", e)
		return
	}
	m.logFailure(q, e)
	setOwnPageHeaders(q.out.Header(), e)
	m.cfg.ErrorHandler(q.out, q.r, e)
}

func (m *Manager) logFailure(q *request, e *Error) {
	if e.Status >= http.StatusInternalServerError {
		m.log.Error("session request failed", "status", e.Status, "path", q.r.URL.Path, "err", e.Err)
	} else {
		m.log.Info("session request refused", "status", e.Status, "path", q.r.URL.Path, "reason", e.Message, "err", e.Err)
	}
}

// fork answers tabs.js: the browser tab is a copy of this tab, so give it
// a new number, with a copy of this tab's data under ForkCopy.
func (m *Manager) fork(q *request) {
	r := q.r
	if r.Header.Get(ForkHeader) == "" || !sameOrigin(r) {
		m.fail(q, &Error{Status: http.StatusForbidden, Message: "Cross-site fork refused."})
		return
	}
	exists, err := q.unit.Exists()
	if err != nil {
		m.fail(q, storeFailure(err))
		return
	}
	if !exists {
		// Without a session there is only tab 0 and nothing to copy; an
		// answer naming tab 0 again would send the page round in circles.
		m.fail(q, &Error{Status: http.StatusConflict, Err: ErrUnknownTab,
			Message: "There is no session to fork a tab in."})
		return
	}
	parent, _ := q.unit.Tab()
	var copyFrom *tabs.ID
	if m.cfg.Fork == ForkCopy {
		copyFrom = &parent
	}
	tab, err := q.unit.OpenTab(session.FreshTab, copyFrom)
	if err != nil {
		m.fail(q, storeFailure(err))
		return
	}
	q.unit.MoveToTab(tab)
	if err := q.sess.notify(tab, ForkedMessage(parent, m.cfg.Fork)); err != nil {
		m.log.Warn("could not leave a notice in the forked tab", "err", err)
	}
	h := q.out.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	q.out.WriteHeader(http.StatusOK)
	_, _ = q.out.Write([]byte(`{"tab":` + tab.String() + `,"prefix":"` + tabs.Prefix(tab, "/") + `"}`))
}

// sameOrigin rejects requests a browser marks as coming from another
// site; requests without those headers (old browsers, tools) pass on the
// strength of ForkHeader.
func sameOrigin(r *http.Request) bool {
	if site := r.Header.Get("Sec-Fetch-Site"); site != "" && site != "same-origin" {
		return false
	}
	if origin := r.Header.Get("Origin"); origin != "" {
		return strings.TrimPrefix(strings.TrimPrefix(origin, "https://"), "http://") == r.Host
	}
	return true
}
