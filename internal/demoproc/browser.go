package demoproc

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// NewTransport returns a keep-alive transport that keeps up to conns idle
// connections per host, so concurrent browsers reuse their connections
// instead of churning through ephemeral ports. Its idle connections are
// closed when t ends.
func NewTransport(t testing.TB, conns int) *http.Transport {
	tr := &http.Transport{
		MaxIdleConns:        conns,
		MaxIdleConnsPerHost: conns,
		IdleConnTimeout:     30 * time.Second,
	}
	t.Cleanup(tr.CloseIdleConnections)
	return tr
}

// Browser is one browser: a cookie jar, redirects not followed (so every
// 303 is seen), and the session's CSRF token once signed in. Its methods
// that take no *testing.T report errors instead of failing the test, and
// like Get and PostForm are safe for several goroutines once signed in.
type Browser struct {
	t    testing.TB
	base string
	*session
}

// session is what the views At returns share.
type session struct {
	http *http.Client
	csrf string
}

// NewBrowser returns a browser with an empty cookie jar that sends its
// requests to baseURL (as Demo.URL gives it) through transport, each
// bounded by timeout. Requests end when t does.
func NewBrowser(t testing.TB, baseURL string, transport http.RoundTripper, timeout time.Duration) *Browser {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &Browser{t: t, base: baseURL, session: &session{http: &http.Client{
		Transport:     transport,
		Jar:           jar,
		Timeout:       timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}}
}

// At returns the same browser (its cookies and CSRF token) sending its
// requests to baseURL instead: another process, or the demo restarted on
// another port. Cookies ignore ports, so the session goes along.
func (b *Browser) At(baseURL string) *Browser {
	return &Browser{t: b.t, base: baseURL, session: b.session}
}

// URL is the address the browser sends its requests to.
func (b *Browser) URL() string { return b.base }

// CSRF is the session's CSRF token, "" before SignIn.
func (b *Browser) CSRF() string { return b.csrf }

// Answer is a response with its body read.
type Answer struct {
	Status  int
	Header  http.Header
	Cookies []*http.Cookie // those the response set
	Body    string
}

// Location is the answer's Location header.
func (a Answer) Location() string { return a.Header.Get("Location") }

// Cookie returns the cookie the response set for name, if it set one.
func (a Answer) Cookie(name string) (*http.Cookie, bool) {
	for _, c := range a.Cookies {
		if c.Name == name {
			return c, true
		}
	}
	return nil, false
}

// String is the status, the Location and the body, for failure messages.
func (a Answer) String() string {
	return fmt.Sprintf("%d %s\n%s", a.Status, a.Location(), a.Body)
}

// maxBody bounds what is read of one response.
const maxBody = 1 << 20

// Do sends a request to path; a non-nil form makes it a form post, to
// which the session's CSRF token is added unless the form has a "csrf"
// field already.
func (b *Browser) Do(method, path string, form url.Values) (Answer, error) {
	var body io.Reader
	if form != nil {
		if _, set := form["csrf"]; !set && b.csrf != "" {
			form.Set("csrf", b.csrf)
		}
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequestWithContext(b.t.Context(), method, b.base+path, body)
	if err != nil {
		return Answer{}, err
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	res, err := b.http.Do(req)
	if err != nil {
		return Answer{}, err
	}
	defer res.Body.Close()
	data, err := io.ReadAll(io.LimitReader(res.Body, maxBody))
	if err != nil {
		return Answer{}, fmt.Errorf("%s %s: reading the body: %w", method, b.base+path, err)
	}
	return Answer{Status: res.StatusCode, Header: res.Header, Cookies: res.Cookies(), Body: string(data)}, nil
}

// Get sends GET path and fails the test if no answer comes.
func (b *Browser) Get(path string) Answer {
	b.t.Helper()
	a, err := b.Do(http.MethodGet, path, nil)
	if err != nil {
		b.t.Fatalf("GET %s: %v", b.base+path, err)
	}
	return a
}

// PostForm posts form (nil for an empty one) with the session's CSRF
// token to path and fails the test if no answer comes.
func (b *Browser) PostForm(path string, form url.Values) Answer {
	b.t.Helper()
	if form == nil {
		form = url.Values{}
	}
	a, err := b.Do(http.MethodPost, path, form)
	if err != nil {
		b.t.Fatalf("POST %s: %v", b.base+path, err)
	}
	return a
}

// Cookie returns the cookie named name the browser would send with its
// next request.
func (b *Browser) Cookie(name string) (*http.Cookie, bool) {
	u, err := url.Parse(b.base + "/")
	if err != nil {
		b.t.Fatal(err)
	}
	for _, c := range b.http.Jar.Cookies(u) {
		if c.Name == name {
			return c, true
		}
	}
	return nil, false
}

// SetCookie puts c in the jar, as a browser replaying a cookie it kept
// would send it.
func (b *Browser) SetCookie(c *http.Cookie) {
	u, err := url.Parse(b.base + "/")
	if err != nil {
		b.t.Fatal(err)
	}
	b.http.Jar.SetCookies(u, []*http.Cookie{{Name: c.Name, Value: c.Value}})
}

var csrfInput = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// FormToken returns the CSRF token of the first form on a page. Tokens
// are base64url, so the HTML escaping of the value changes nothing.
func FormToken(page string) (string, bool) {
	m := csrfInput.FindStringSubmatch(page)
	if m == nil {
		return "", false
	}
	return m[1], true
}

// SignIn signs in as a cashier would, with the demo's PIN and a name,
// and fails the test unless the demo lets the browser in: the sign-in
// form's token rides on the double-submit cookie GET /login sets, and the
// register page then carries the session's own token, which every later
// form gets.
func (b *Browser) SignIn(pin, name string) {
	b.t.Helper()
	if got := b.TrySignIn(pin, name); got.Status != http.StatusSeeOther || got.Location() != "/0/" {
		b.t.Fatalf("sign-in at %s: got %d to %q, want 303 to /0/\n%s", b.base, got.Status, got.Location(), got.Body)
	}
	page := b.Get("/0/")
	MustStatus(b.t, "register page after sign-in", page, http.StatusOK)
	token, ok := FormToken(page.Body)
	if !ok {
		b.t.Fatalf("the register page at %s has no CSRF token:\n%s", b.base, page.Body)
	}
	b.csrf = token
}

// TrySignIn posts the sign-in form and returns the answer, whatever it
// is. It fails the test only if the form cannot be had.
func (b *Browser) TrySignIn(pin, name string) Answer {
	b.t.Helper()
	form := b.Get("/login")
	MustStatus(b.t, "GET /login", form, http.StatusOK)
	token, ok := FormToken(form.Body)
	if !ok {
		b.t.Fatalf("the sign-in form at %s has no CSRF token:\n%s", b.base, form.Body)
	}
	return b.PostForm("/login", url.Values{"pin": {pin}, "name": {name}, "next": {"/0/"}, "csrf": {token}})
}

// OpenTab opens a new register (GET /+/) and returns its number.
func (b *Browser) OpenTab() int {
	b.t.Helper()
	got := b.Get("/+/")
	MustStatus(b.t, "GET /+/ at "+b.base, got, http.StatusSeeOther)
	n, ok := tabOf(got.Location())
	if !ok {
		b.t.Fatalf("GET /+/ at %s: Location %q is not a register", b.base, got.Location())
	}
	return n
}

// tabOf parses the tab number of a register's address, "/N/".
func tabOf(location string) (int, bool) {
	s, ok := strings.CutPrefix(location, "/")
	if !ok {
		return 0, false
	}
	s, ok = strings.CutSuffix(s, "/")
	if !ok {
		return 0, false
	}
	n, err := strconv.Atoi(s)
	return n, err == nil && n >= 0
}

// TabPath returns path within register tab: TabPath(3, "/cart.json") is
// "/3/cart.json".
func TabPath(tab int, path string) string {
	return "/" + strconv.Itoa(tab) + path
}

// Add posts one add of qty × sku to a register's cart. The demo
// acknowledges it with a 303 back to the register.
func (b *Browser) Add(tab int, sku string, qty int) (Answer, error) {
	return b.Do(http.MethodPost, TabPath(tab, "/cart/items"), url.Values{"sku": {sku}, "qty": {strconv.Itoa(qty)}})
}

// CartLine is one line of a cart as GET /{n}/cart.json lists it.
type CartLine struct {
	SKU string `json:"sku"`
	Qty int    `json:"qty"`
}

// CartLines reads a register's cart.json and returns its lines as
// listed, failing the test unless it answers 200 for that tab.
func (b *Browser) CartLines(tab int) []CartLine {
	b.t.Helper()
	path := TabPath(tab, "/cart.json")
	got := b.Get(path)
	MustStatus(b.t, path+" at "+b.base, got, http.StatusOK)
	var v struct {
		Tab   int        `json:"tab"`
		Items []CartLine `json:"items"`
	}
	if err := json.Unmarshal([]byte(got.Body), &v); err != nil {
		b.t.Fatalf("%s at %s: %v\n%s", path, b.base, err, got.Body)
	}
	if v.Tab != tab {
		b.t.Fatalf("%s at %s: answered for tab %d", path, b.base, v.Tab)
	}
	return v.Items
}

// Cart reads a register's cart as quantity by SKU.
func (b *Browser) Cart(tab int) map[string]int {
	b.t.Helper()
	c := map[string]int{}
	for _, it := range b.CartLines(tab) {
		c[it.SKU] += it.Qty
	}
	return c
}

// MustStatus fails the test unless a has the given status.
func MustStatus(t testing.TB, what string, a Answer, want int) {
	t.Helper()
	if a.Status != want {
		t.Fatalf("%s: got %s, want status %d", what, a, want)
	}
}
