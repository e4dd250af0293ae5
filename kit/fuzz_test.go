package kit

import (
	"github.com/tabkit/tabkit/internal/session"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"
)

// FuzzCookieDecode feeds arbitrary cookie values to both cookie modes: a
// value is either rejected or yields an ID of the shape newID makes, and
// nothing panics. (That forgeries fail is TestBadCookiesAreIgnored's job:
// fuzz workers are separate processes, so a signed seed made here cannot
// be compared across them.)
func FuzzCookieDecode(f *testing.F) {
	signed := newCookieCodec([][]byte{[]byte(strings.Repeat("k", 32))}, time.Hour)
	good, err := signed.encode("tabkit", session.NewToken())
	if err != nil {
		f.Fatal(err)
	}
	for _, seed := range []string{"", session.NewToken(), good, good[:20], strings.Repeat("A", 300), "a|b|c", "%00", "MTIz"} {
		f.Add(seed)
	}
	plain := newCookieCodec(nil, time.Hour)
	f.Fuzz(func(t *testing.T, value string) {
		if id, err := plain.decode("tabkit", value); err == nil {
			if !session.ValidToken(id) || id != value {
				t.Errorf("plain decode of %q gave %q", value, id)
			}
		}
		if id, err := signed.decode("tabkit", value); err == nil {
			if !session.ValidToken(id) {
				t.Errorf("signed decode of %q gave malformed ID %q", value, id)
			}
		}
	})
}

// FuzzEachCookie checks that the kit reads the Cookie header as net/http
// does: the same values of the session's cookie, in the same order.
func FuzzEachCookie(f *testing.F) {
	for _, seed := range []string{
		"", "tabkit=abc", "a=1; tabkit=x; tabkit=\"y\"", " tabkit = v ;tabkit=", "tabkit=a\\b; tabkit=\"\"",
		"tabkit=\"unclosed; tabkit=ok", "x=1;;; tabkit=2", "tabkit\t=\t3 ", "TABKIT=4", "tabkit==5",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, header string) {
		h := http.Header{"Cookie": {header}}
		var got []string
		eachCookie(h, "tabkit", func(v string) bool { got = append(got, v); return true })
		var want []string
		for _, c := range (&http.Request{Header: h}).CookiesNamed("tabkit") {
			want = append(want, c.Value)
		}
		if !slices.Equal(got, want) {
			t.Errorf("Cookie %q: got %q, want %q (net/http)", header, got, want)
		}
	})
}
