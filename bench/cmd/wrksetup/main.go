// Command wrksetup signs in sessions on a running pos-demo and writes wrk
// Lua scripts that rotate through them: read.lua loads the register page,
// add.lua posts add-to-cart forms with each session's CSRF token.
//
//	wrksetup -url http://127.0.0.1:8080 -sessions 30 -catalog ../cmd/pos-demo/catalog.json -out DIR
package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
)

func main() {
	base := flag.String("url", "http://127.0.0.1:8080", "the demo's base `URL`")
	n := flag.Int("sessions", 30, "sessions to sign in")
	pin := flag.String("pin", "1234", "the cashier PIN")
	catalog := flag.String("catalog", "../cmd/pos-demo/catalog.json", "the demo's catalogue, for SKUs")
	skus := flag.Int("skus", 20, "SKUs add.lua rotates through")
	out := flag.String("out", ".", "`directory` for read.lua and add.lua")
	flag.Parse()
	if err := run(*base, *n, *pin, *catalog, *skus, *out); err != nil {
		fmt.Fprintln(os.Stderr, "wrksetup:", err)
		os.Exit(1)
	}
}

type session struct{ cookie, csrf string }

func run(base string, n int, pin, catalogPath string, nSKUs int, out string) error {
	skus, err := readSKUs(catalogPath, nSKUs)
	if err != nil {
		return err
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	var sessions []session
	for i := range n {
		s, err := signIn(client, base, pin, "Bench "+strconv.Itoa(i+1))
		if err != nil {
			return fmt.Errorf("session %d: %w", i+1, err)
		}
		sessions = append(sessions, s)
	}
	var list strings.Builder
	for _, s := range sessions {
		fmt.Fprintf(&list, "  {cookie = %q, csrf = %q},\n", s.cookie, s.csrf)
	}
	var skuList strings.Builder
	for _, s := range skus {
		fmt.Fprintf(&skuList, "%q, ", s)
	}
	read := "local sessions = {\n" + list.String() + "}\n" + `local i = 0
request = function()
  i = i + 1
  local s = sessions[(i % #sessions) + 1]
  return wrk.format("GET", "/0/", {["Cookie"] = s.cookie})
end
`
	add := "local sessions = {\n" + list.String() + "}\nlocal skus = {" + skuList.String() + "}\n" + `local i = 0
request = function()
  i = i + 1
  local s = sessions[(i % #sessions) + 1]
  local sku = skus[(math.floor(i / #sessions) % #skus) + 1]
  local body = "sku=" .. sku .. "&qty=1&csrf=" .. s.csrf
  return wrk.format("POST", "/0/cart/items", {
    ["Cookie"] = s.cookie,
    ["Content-Type"] = "application/x-www-form-urlencoded",
  }, body)
end
`
	if err := os.WriteFile(filepath.Join(out, "read.lua"), []byte(read), 0o600); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(out, "add.lua"), []byte(add), 0o600)
}

func readSKUs(path string, n int) ([]string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var cat struct {
		Products []struct {
			SKU string `json:"sku"`
		} `json:"products"`
	}
	if err := json.Unmarshal(b, &cat); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	var skus []string
	for _, p := range cat.Products {
		if len(skus) < n {
			skus = append(skus, p.SKU)
		}
	}
	if len(skus) == 0 {
		return nil, fmt.Errorf("%s: no products", path)
	}
	return skus, nil
}

var csrfInput = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// signIn goes through the demo's sign-in form as a browser would: the
// form's double-submit cookie and token, the POST, then the register
// page for the session's own token.
func signIn(client *http.Client, base, pin, name string) (session, error) {
	resp, err := client.Get(base + "/login")
	if err != nil {
		return session{}, err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	var formCookie *http.Cookie
	for _, c := range resp.Cookies() {
		if c.Name == "csrf" {
			formCookie = c
		}
	}
	if formCookie == nil {
		return session{}, errors.New("GET /login set no csrf cookie")
	}
	form := url.Values{"csrf": {formCookie.Value}, "pin": {pin}, "name": {name}, "next": {"/0/"}}
	req, err := http.NewRequest(http.MethodPost, base+"/login", strings.NewReader(form.Encode()))
	if err != nil {
		return session{}, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.AddCookie(formCookie)
	resp, err = client.Do(req)
	if err != nil {
		return session{}, err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		return session{}, fmt.Errorf("POST /login: status %d", resp.StatusCode)
	}
	var cookies []string
	for _, c := range resp.Cookies() {
		if c.Name != "csrf" && c.MaxAge >= 0 {
			cookies = append(cookies, c.Name+"="+c.Value)
		}
	}
	if len(cookies) == 0 {
		return session{}, errors.New("POST /login set no session cookie")
	}
	cookie := strings.Join(cookies, "; ")
	req, err = http.NewRequest(http.MethodGet, base+"/0/", nil)
	if err != nil {
		return session{}, err
	}
	req.Header.Set("Cookie", cookie)
	resp, err = client.Do(req)
	if err != nil {
		return session{}, err
	}
	page, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return session{}, err
	}
	m := csrfInput.FindSubmatch(page)
	if resp.StatusCode != http.StatusOK || m == nil {
		return session{}, fmt.Errorf("GET /0/: status %d, no CSRF token in the page", resp.StatusCode)
	}
	return session{cookie: cookie, csrf: string(m[1])}, nil
}
