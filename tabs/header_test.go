package tabs

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
)

// headerTestConfig is the configuration of the header tests.
var headerTestConfig = Config{Exempt: []string{"/static/", "/api/"}}

func TestHeader(t *testing.T) {
	r := newTestRewriter(t, headerTestConfig)
	tests := []struct {
		name, header, value, want string
	}{
		{"location", "Location", "/cart", "/3/cart"},
		{"location with query", "Location", "/cart?x=1#f", "/3/cart?x=1#f"},
		{"location root", "Location", "/", "/3/"},
		{"location other host", "Location", "https://example.com/x", ""},
		{"location protocol-relative", "Location", "//example.com/x", ""},
		{"location backslash host", "Location", `/\example.com`, ""},
		{"location already prefixed", "Location", "/3/cart", ""},
		{"location other tab", "Location", "/7/cart", ""},
		{"location exempt", "Location", "/static/app.css", ""},
		{"location relative", "Location", "cart", ""},
		{"location empty", "Location", "", ""},
		{"location lower case name", "location", "/cart", "/3/cart"},
		{"location upper case name", "LOCATION", "/cart", "/3/cart"},
		{"content-location", "Content-Location", "/orders/7", "/3/orders/7"},
		{"hx-redirect", "Hx-Redirect", "/login", "/3/login"},
		{"hx-redirect spelled as htmx does", "HX-Redirect", "/login", "/3/login"},
		{"hx-push-url", "Hx-Push-Url", "/cart?page=2", "/3/cart?page=2"},
		{"hx-push-url true", "Hx-Push-Url", "true", ""},
		{"hx-push-url false", "Hx-Push-Url", "false", ""},
		{"hx-replace-url", "Hx-Replace-Url", "/cart", "/3/cart"},
		{"hx-replace-url false", "Hx-Replace-Url", "false", ""},
		{"hx-replace-url other host", "Hx-Replace-Url", "https://example.com/", ""},

		{"refresh delay only", "Refresh", "5", ""},
		{"refresh", "Refresh", "5; url=/x", "5; url=/3/x"},
		{"refresh upper-case quoted", "Refresh", "5;URL='/x'", "5;URL='/3/x'"},
		{"refresh zero", "Refresh", "0;url=/x", "0;url=/3/x"},
		{"refresh without url=", "Refresh", "0, /x", "0, /3/x"},
		{"refresh double quotes", "Refresh", `1; url="/x?a=1"`, `1; url="/3/x?a=1"`},
		{"refresh other host", "Refresh", "0;url=https://example.com/", ""},
		{"refresh already prefixed", "Refresh", "0;url=/3/x", ""},
		{"refresh exempt", "Refresh", "0;url=/api/x", ""},
		{"refresh garbage", "Refresh", "soon; url=/x", ""},

		{"hx-location path", "Hx-Location", "/cart", "/3/cart"},
		{"hx-location json", "Hx-Location", `{"path":"/x","target":"#main"}`, `{"path":"/3/x","target":"#main"}`},
		{"hx-location json spaced", "Hx-Location", `{ "target" : "#main" , "path" : "/x" }`, `{ "target" : "#main" , "path" : "/3/x" }`},
		{"hx-location json leading space", "Hx-Location", ` {"path":"/x"}`, ` {"path":"/3/x"}`},
		{"hx-location json other members kept", "Hx-Location", `{"path":"/x","values":{"path":"/y","n":1.50},"headers":{"A":"/z"},"swap":"innerHTML"}`, `{"path":"/3/x","values":{"path":"/y","n":1.50},"headers":{"A":"/z"},"swap":"innerHTML"}`},
		{"hx-location json escaped path", "Hx-Location", `{"path":"\/x\u0026y=1","target":"#m"}`, `{"path":"/3/x\u0026y=1","target":"#m"}`},
		{"hx-location json escape kept", "Hx-Location", `{"path":"/x?a=1\u0026b=\"2\"\/"}`, `{"path":"/3/x?a=1\u0026b=\"2\"\/"}`},
		{"hx-location json invalid UTF-8 kept", "Hx-Location", "{\"path\":\"/x\xff\"}", "{\"path\":\"/3/x\xff\"}"},
		{"hx-location json space before path", "Hx-Location", `{"path":" /x"}`, `{"path":" /3/x"}`},
		{"hx-location json escaped space before path", "Hx-Location", `{"path":"\t/x"}`, `{"path":"\t/3/x"}`},
		{"hx-location json escaped key", "Hx-Location", `{"pat\u0068":"/x"}`, `{"pat\u0068":"/3/x"}`},
		{"hx-location json duplicate paths", "Hx-Location", `{"path":"/x","path":"/y"}`, `{"path":"/3/x","path":"/3/y"}`},
		{"hx-location json other host", "Hx-Location", `{"path":"//example.com/x"}`, ""},
		{"hx-location json escaped other host", "Hx-Location", `{"path":"\/\/example.com/x"}`, ""},
		{"hx-location json prefixed", "Hx-Location", `{"path":"/3/x"}`, ""},
		{"hx-location json exempt", "Hx-Location", `{"path":"/static/x"}`, ""},
		{"hx-location json without path", "Hx-Location", `{"target":"#main"}`, ""},
		{"hx-location json path not a string", "Hx-Location", `{"path":["/x"],"n":{"path":"/y"}}`, ""},
		{"hx-location json path case", "Hx-Location", `{"Path":"/x"}`, ""},
		{"hx-location invalid json", "Hx-Location", `{"path":"/x",}`, ""},
		{"hx-location json trailing data", "Hx-Location", `{"path":"/x"} x`, ""},
		{"hx-location lone brace", "Hx-Location", `{`, ""},
		{"hx-location json path after nested", "Hx-Location", `{"a":[{"path":"/y"},[1,"/z"]],"b":null,"path":"/x"}`, `{"a":[{"path":"/y"},[1,"/z"]],"b":null,"path":"/3/x"}`},

		{"other header", "Link", "</style.css>; rel=preload", ""},
		{"other header with a path", "X-Next", "/cart", ""},
		{"content type", "Content-Type", "/cart", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want := tt.want
			if want == "" {
				want = tt.value
			}
			got := r.Header(3, tt.header, tt.value)
			if got != want {
				t.Fatalf("Header(3, %q, %q): got %q, want %q", tt.header, tt.value, got, want)
			}
			if err := checkHeader(r, 3, tt.header, tt.value, got); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestURLHeaders(t *testing.T) {
	got := URLHeaders()
	want := []string{"Location", "Content-Location", "Refresh", "Hx-Location", "Hx-Redirect", "Hx-Push-Url", "Hx-Replace-Url"}
	if !slices.Equal(got, want) {
		t.Fatalf("got %q, want %q", got, want)
	}
	r := newTestRewriter(t, Config{})
	for _, name := range got {
		if name != http.CanonicalHeaderKey(name) {
			t.Errorf("%q is not in canonical form", name)
		}
		if v := r.Header(1, name, "/x"); v == "/x" && name != "Refresh" {
			t.Errorf("Header(1, %q, \"/x\") did not rewrite", name)
		}
	}
	got[0] = "X"
	if URLHeaders()[0] != "Location" {
		t.Errorf("changing the returned slice changed the list")
	}
}

// checkHeader checks the promises of Header on one value: other headers
// and non-URL values unchanged, exactly one prefix at the start of a URL
// that had none, and idempotence.
func checkHeader(r *Rewriter, id ID, name, in, out string) error {
	if again := r.Header(id, name, out); again != out {
		return fmt.Errorf("Header(%q) is not idempotent: %q, then %q, then %q", name, in, out, again)
	}
	switch headerKindOf(name) {
	case headerURL:
		return checkURLChange(r, id, in, out)
	case headerRefresh:
		return checkRefreshChange(r, id, in, out)
	case headerHXLocation:
		if strings.HasPrefix(strings.TrimLeft(in, " \t"), "{") {
			return checkHXLocationChange(r, id, in, out)
		}
		return checkURLChange(r, id, in, out)
	}
	if out != in {
		return fmt.Errorf("header %q is not a URL header but changed: %q to %q", name, in, out)
	}
	return nil
}

func checkRefreshChange(r *Rewriter, id ID, in, out string) error {
	start, end, ok := refreshURL(in)
	if !ok {
		if out != in {
			return fmt.Errorf("Refresh %q holds no URL but became %q", in, out)
		}
		return nil
	}
	outStart, outEnd, ok := refreshURL(out)
	if !ok || outStart != start || out[:start] != in[:start] || out[outEnd:] != in[end:] {
		return fmt.Errorf("Refresh %q became %q: more than the URL changed", in, out)
	}
	return checkURLChange(r, id, in[start:end], out[outStart:outEnd])
}

func checkHXLocationChange(r *Rewriter, id ID, in, out string) error {
	var before, after map[string]json.RawMessage
	if err := json.Unmarshal([]byte(in), &before); err != nil {
		if out != in {
			return fmt.Errorf("HX-Location %q is no JSON object but became %q", in, out)
		}
		return nil
	}
	if err := json.Unmarshal([]byte(out), &after); err != nil {
		return fmt.Errorf("HX-Location %q became %q, which is no JSON object: %v", in, out, err)
	}
	if len(before) != len(after) {
		return fmt.Errorf("HX-Location %q became %q: members differ", in, out)
	}
	for k, v := range before {
		if k == "path" {
			continue
		}
		if string(after[k]) != string(v) {
			return fmt.Errorf("HX-Location %q became %q: member %q changed", in, out, k)
		}
	}
	// JSON.parse, like Unmarshal into a map, keeps the last "path".
	var pathBefore, pathAfter string
	errBefore := json.Unmarshal(before["path"], &pathBefore)
	errAfter := json.Unmarshal(after["path"], &pathAfter)
	if errBefore != nil || errAfter != nil {
		if string(before["path"]) != string(after["path"]) {
			return fmt.Errorf("HX-Location %q became %q: a path that is no string changed", in, out)
		}
		return nil
	}
	return checkURLChange(r, id, pathBefore, pathAfter)
}

func FuzzHeader(f *testing.F) {
	for _, h := range urlHeaders {
		f.Add(h.name, "/x", uint32(3))
	}
	for _, s := range []struct{ name, value string }{
		{"Location", "//example.com/x"},
		{"Location", "/3/x"},
		{"location", "/static/x"},
		{"Hx-Push-Url", "true"},
		{"Hx-Replace-Url", "false"},
		{"Refresh", "5"},
		{"Refresh", "5;URL='/x'"},
		{"Refresh", "0;url=/x"},
		{"Refresh", `1; url="/x`},
		{"Hx-Location", `{"path":"/x","target":"#main"}`},
		{"Hx-Location", `{"path":"\/x","path":"/y","v":{"path":"/z"}}`},
		{"Hx-Location", `{"path":"\u002f\u002fexample.com"}`},
		{"Hx-Location", `{"path":"/x",}`},
		{"Hx-Location", `{"path":"/\ud800"}`},
		{"Hx-Location", "{\"path\":\"/\xff\"}"},
		{"Link", "</x>; rel=preload"},
	} {
		f.Add(s.name, s.value, uint32(7))
	}
	r, err := New(headerTestConfig)
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, name, value string, idSeed uint32) {
		id := ID(idSeed % (uint32(DefaultMaxID) + 1))
		out := r.Header(id, name, value)
		if err := checkHeader(r, id, name, value, out); err != nil {
			t.Fatal(err)
		}
	})
}
