package soak

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

// newTransport returns a keep-alive transport that keeps up to conns idle
// connections to the demo, so concurrent clients reuse their connections
// instead of churning through ephemeral ports.
func newTransport(t *testing.T, conns int) *http.Transport {
	tr := &http.Transport{
		MaxIdleConns:        conns,
		MaxIdleConnsPerHost: conns,
		IdleConnTimeout:     30 * time.Second,
	}
	t.Cleanup(tr.CloseIdleConnections)
	return tr
}

// requestTimeout bounds every request, so a wedged demo fails a test
// instead of hanging it.
const requestTimeout = 15 * time.Second

// browser is one browser: a cookie jar, redirects not followed (the tests
// look at every 303), and the session's CSRF token once signed in.
type browser struct {
	// base is the demo's address. Cookies ignore ports, so after a
	// restart on a new port only base changes.
	base string
	http *http.Client
	csrf string
}

func newBrowser(t *testing.T, tr *http.Transport, base string) *browser {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &browser{base: base, http: &http.Client{
		Transport:     tr,
		Jar:           jar,
		Timeout:       requestTimeout,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

// answer is a response with its body read.
type answer struct {
	status int
	header http.Header
	body   string
}

func (a answer) location() string { return a.header.Get("Location") }

// maxBody bounds what a test reads of one response.
const maxBody = 1 << 20

// do sends a request; a form makes it a POST carrying the session's CSRF
// token. It is safe to call from several goroutines once signed in.
func (b *browser) do(method, path string, form url.Values) (answer, error) {
	var body io.Reader
	if form != nil {
		if _, set := form["csrf"]; !set && b.csrf != "" {
			form.Set("csrf", b.csrf)
		}
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, b.base+path, body)
	if err != nil {
		return answer{}, err
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	res, err := b.http.Do(req)
	if err != nil {
		return answer{}, err
	}
	defer res.Body.Close()
	data, err := io.ReadAll(io.LimitReader(res.Body, maxBody))
	if err != nil {
		return answer{}, err
	}
	return answer{status: res.StatusCode, header: res.Header, body: string(data)}, nil
}

func (b *browser) get(t *testing.T, path string) answer {
	t.Helper()
	a, err := b.do(http.MethodGet, path, nil)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	return a
}

func (b *browser) post(t *testing.T, path string, form url.Values) answer {
	t.Helper()
	a, err := b.do(http.MethodPost, path, form)
	if err != nil {
		t.Fatalf("POST %s: %v", path, err)
	}
	return a
}

var csrfInput = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// formToken returns the CSRF token of the first form on a page.
func formToken(page string) (string, bool) {
	m := csrfInput.FindStringSubmatch(page)
	if m == nil {
		return "", false
	}
	return m[1], true
}

// signIn signs in as a cashier would: the sign-in form's token rides on
// the double-submit cookie GET /login sets; the register page then
// carries the session's own token for every later form.
func (b *browser) signIn(t *testing.T, name string) {
	t.Helper()
	if got := b.trySignIn(t, name); got.status != http.StatusSeeOther || got.location() != "/0/" {
		t.Fatalf("sign-in: got %d to %q, want 303 to /0/\n%s", got.status, got.location(), got.body)
	}
	page := b.get(t, "/0/")
	mustStatus(t, "register page after sign-in", page, http.StatusOK)
	token, ok := formToken(page.body)
	if !ok {
		t.Fatalf("the register page has no CSRF token:\n%s", page.body)
	}
	b.csrf = token
}

// trySignIn posts the sign-in form and returns the answer, whatever it
// is.
func (b *browser) trySignIn(t *testing.T, name string) answer {
	t.Helper()
	form := b.get(t, "/login")
	mustStatus(t, "GET /login", form, http.StatusOK)
	token, ok := formToken(form.body)
	if !ok {
		t.Fatalf("the sign-in form has no CSRF token:\n%s", form.body)
	}
	return b.post(t, "/login", url.Values{"pin": {testPIN}, "name": {name}, "next": {"/0/"}, "csrf": {token}})
}

// openTab opens a new register (GET /+/) and returns its number.
func (b *browser) openTab(t *testing.T) int {
	t.Helper()
	got := b.get(t, "/+/")
	mustStatus(t, "GET /+/", got, http.StatusSeeOther)
	n, ok := tabOf(got.location())
	if !ok {
		t.Fatalf("GET /+/: Location %q is not a register", got.location())
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

// add posts one add to a register's cart.
func (b *browser) add(tab int, sku string, qty int) (answer, error) {
	return b.do(http.MethodPost, tabPath(tab, "/cart/items"), url.Values{"sku": {sku}, "qty": {strconv.Itoa(qty)}})
}

// isAck reports whether a is the demo's acknowledgement of an add to tab:
// a 303 back to that register. An add refused for want of a cashier is
// sent elsewhere, but one refused by the cart's own limits comes back to
// the register too, with an error flash: callers keep their adds within
// those limits.
func isAck(a answer, tab int) bool {
	return a.status == http.StatusSeeOther && a.location() == tabPath(tab, "/")
}

// cart is a cart as GET /{n}/cart.json shows it: quantity by SKU.
type cart map[string]int

type cartJSON struct {
	Tab   int `json:"tab"`
	Items []struct {
		SKU string `json:"sku"`
		Qty int    `json:"qty"`
	} `json:"items"`
}

// readCart returns a register's cart.
func (b *browser) readCart(t *testing.T, tab int) cart {
	t.Helper()
	got := b.get(t, tabPath(tab, "/cart.json"))
	mustStatus(t, tabPath(tab, "/cart.json"), got, http.StatusOK)
	var v cartJSON
	if err := json.Unmarshal([]byte(got.body), &v); err != nil {
		t.Fatalf("%s: %v\n%s", tabPath(tab, "/cart.json"), err, got.body)
	}
	if v.Tab != tab {
		t.Fatalf("%s: answered for tab %d", tabPath(tab, "/cart.json"), v.Tab)
	}
	c := cart{}
	for _, it := range v.Items {
		c[it.SKU] += it.Qty
	}
	return c
}

func tabPath(tab int, path string) string {
	return "/" + strconv.Itoa(tab) + path
}

// mustStatus fails the test unless a has the given status.
func mustStatus(t *testing.T, what string, a answer, want int) {
	t.Helper()
	if a.status != want {
		t.Fatalf("%s: got status %d, want %d\n%s", what, a.status, want, a.body)
	}
}

// skus are products of the demo's catalogue.
var skus = []string{
	"COF-001", "COF-002", "COF-003", "TEA-001", "TEA-002", "TEA-003",
	"BAK-001", "BAK-002", "SAN-001", "SAN-002", "SNK-001", "DRK-001",
}

func (c cart) String() string { return fmt.Sprint(map[string]int(c)) }

// catalogSKUs are all 48 products of the demo's catalogue.
var catalogSKUs = func() []string {
	var all []string
	for _, category := range []string{"COF", "TEA", "BAK", "SAN", "SNK", "DRK"} {
		for i := 1; i <= 8; i++ {
			all = append(all, fmt.Sprintf("%s-%03d", category, i))
		}
	}
	return all
}()
