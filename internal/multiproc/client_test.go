package multiproc

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// sessionCookie is the kit's default cookie name, which the demo keeps.
const sessionCookie = "tabkit"

// httpClient never follows redirects, so every 303 is seen, and keeps
// enough idle connections for the concurrent clients of a test.
var httpClient = &http.Client{
	Timeout:       requestTimeout,
	CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	Transport: &http.Transport{
		MaxIdleConns:        128,
		MaxIdleConnsPerHost: 64,
	},
}

// answer is a response with its body read.
type answer struct {
	status  int
	header  http.Header
	cookies []*http.Cookie
	body    string
}

func (a answer) String() string {
	return fmt.Sprintf("%d %s\n%s", a.status, a.header.Get("Location"), a.body)
}

// cookie returns the value a response set for name, and whether it set one.
func (a answer) cookie(name string) (*http.Cookie, bool) {
	for _, c := range a.cookies {
		if c.Name == name {
			return c, true
		}
	}
	return nil, false
}

// send makes one request with the given cookies and, for a non-nil form,
// a form body. It returns errors rather than failing a test, so client
// goroutines can use it.
func send(ctx context.Context, method, target string, form url.Values, cookies ...*http.Cookie) (answer, error) {
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequestWithContext(ctx, method, target, body)
	if err != nil {
		return answer{}, err
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for _, c := range cookies {
		req.AddCookie(c)
	}
	res, err := httpClient.Do(req)
	if err != nil {
		return answer{}, err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		return answer{}, fmt.Errorf("%s %s: reading the body: %w", method, target, err)
	}
	return answer{status: res.StatusCode, header: res.Header, cookies: res.Cookies(), body: string(b)}, nil
}

// browser is one browser's session as the tests drive it: the session
// cookie and the session's CSRF token, both fixed once signed in.
type browser struct {
	t       *testing.T
	session *http.Cookie
	csrf    string
}

// get sends a GET through d and fails t on a transport error.
func (b *browser) get(d *demo, path string) answer {
	b.t.Helper()
	a, err := send(b.t.Context(), http.MethodGet, d.base+path, nil, b.cookies()...)
	if err != nil {
		b.t.Fatalf("GET %s via %s: %v", path, d.name, err)
	}
	return a
}

// post sends a form with the session's CSRF token through d.
func (b *browser) post(d *demo, path string, form url.Values) answer {
	b.t.Helper()
	if form == nil {
		form = url.Values{}
	}
	form.Set("csrf", b.csrf)
	a, err := send(b.t.Context(), http.MethodPost, d.base+path, form, b.cookies()...)
	if err != nil {
		b.t.Fatalf("POST %s via %s: %v", path, d.name, err)
	}
	return a
}

func (b *browser) cookies() []*http.Cookie {
	if b.session == nil {
		return nil
	}
	return []*http.Cookie{{Name: b.session.Name, Value: b.session.Value}}
}

// csrfInput finds a form's CSRF field; tokens are base64url, so the
// HTML escaping of the value changes nothing.
var csrfInput = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// signIn signs a new browser in through d, as a person would: the sign-in
// form shown in place at /0/, its double-submit cookie, then POST /login.
// The session's own CSRF token is read from the register page that
// follows.
func signIn(t *testing.T, d *demo, name string) *browser {
	t.Helper()
	form, err := send(t.Context(), http.MethodGet, d.base+"/0/", nil)
	if err != nil {
		t.Fatalf("GET /0/ via %s: %v", d.name, err)
	}
	mustStatus(t, "sign-in form", form, http.StatusOK)
	token := csrfInput.FindStringSubmatch(form.body)
	double, ok := form.cookie("csrf")
	if token == nil || !ok {
		t.Fatalf("sign-in form via %s: no CSRF token or cookie\n%s", d.name, form)
	}
	res, err := send(t.Context(), http.MethodPost, d.base+"/login",
		url.Values{"pin": {demoPIN}, "name": {name}, "next": {"/0/"}, "csrf": {token[1]}},
		&http.Cookie{Name: double.Name, Value: double.Value})
	if err != nil {
		t.Fatalf("POST /login via %s: %v", d.name, err)
	}
	mustRedirect(t, "sign-in", res, "/0/")
	session, ok := res.cookie(sessionCookie)
	if !ok || session.Value == "" {
		t.Fatalf("sign-in via %s set no %q cookie\n%s", d.name, sessionCookie, res)
	}
	b := &browser{t: t, session: session}
	page := b.get(d, "/0/")
	mustStatus(t, "register page after sign-in", page, http.StatusOK)
	m := csrfInput.FindStringSubmatch(page.body)
	if m == nil {
		t.Fatalf("register page via %s has no CSRF token\n%s", d.name, page)
	}
	b.csrf = m[1]
	return b
}

// openTab opens a new register through d with GET /+/ and returns its
// number.
func (b *browser) openTab(d *demo) int {
	b.t.Helper()
	a := b.get(d, "/+/")
	if a.status != http.StatusSeeOther {
		b.t.Fatalf("GET /+/ via %s: got %s, want a 303 to the new tab", d.name, a)
	}
	tab, ok := tabOf(a.header.Get("Location"))
	if !ok {
		b.t.Fatalf("GET /+/ via %s: Location %q is not a tab's root", d.name, a.header.Get("Location"))
	}
	return tab
}

// tabOf parses "/N/" into N.
func tabOf(location string) (int, bool) {
	inner, ok := strings.CutPrefix(location, "/")
	if !ok {
		return 0, false
	}
	inner, ok = strings.CutSuffix(inner, "/")
	if !ok {
		return 0, false
	}
	n, err := strconv.Atoi(inner)
	return n, err == nil && n >= 0
}

// cartJSON is the body of GET /{n}/cart.json.
type cartJSON struct {
	Tab   int `json:"tab"`
	Items []struct {
		SKU string `json:"sku"`
		Qty int    `json:"qty"`
	} `json:"items"`
}

// cart reads tab's cart through d as sku → quantity.
func (b *browser) cart(d *demo, tab int) map[string]int {
	b.t.Helper()
	a := b.get(d, fmt.Sprintf("/%d/cart.json", tab))
	mustStatus(b.t, fmt.Sprintf("cart of tab %d via %s", tab, d.name), a, http.StatusOK)
	var c cartJSON
	if err := json.Unmarshal([]byte(a.body), &c); err != nil {
		b.t.Fatalf("cart of tab %d via %s: %v\n%s", tab, d.name, err, a.body)
	}
	if c.Tab != tab {
		b.t.Fatalf("cart.json of tab %d via %s names tab %d", tab, d.name, c.Tab)
	}
	got := make(map[string]int, len(c.Items))
	for _, it := range c.Items {
		if _, dup := got[it.SKU]; dup {
			b.t.Errorf("cart of tab %d via %s lists %s twice", tab, d.name, it.SKU)
		}
		got[it.SKU] += it.Qty
	}
	return got
}

func mustStatus(t *testing.T, what string, a answer, want int) {
	t.Helper()
	if a.status != want {
		t.Fatalf("%s: got %s, want status %d", what, a, want)
	}
}

func mustRedirect(t *testing.T, what string, a answer, location string) {
	t.Helper()
	if a.status != http.StatusSeeOther || a.header.Get("Location") != location {
		t.Fatalf("%s: got %s, want a 303 to %s", what, a, location)
	}
}
