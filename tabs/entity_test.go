package tabs

import (
	"bytes"
	"strings"
	"testing"

	"golang.org/x/net/html"
)

// tokenizerAttrValue returns the value of the only attribute in
// <a x="raw"> as the html package's tokenizer decodes it.
func tokenizerAttrValue(raw string) string {
	z := html.NewTokenizer(strings.NewReader(`<a x="` + raw + `">`))
	z.Next()
	_, val, _ := z.TagAttr()
	return string(val)
}

func TestAppendAttrValue(t *testing.T) {
	tests := []string{
		"/cart",
		"&#x2F;cart",
		"&#47;cart",
		"&sol;cart",
		"/a?x=1&amp;y=2",
		"/a?x=1&y=2",
		"/a?x=1&amp=2",
		"/a?x=1&amp;=2",
		"&notit;",
		"&notin;",
		"&not",
		"&nota",
		"&fjlig;",
		"&NotEqualTilde;",
		"&lt&gt&amp&quot",
		"&lt;&gt;&apos;&nbsp",
		"&#0;&#x0;&#xD800;&#x110000;&#99999999999;",
		"&#x80;&#x9F;&#128;",
		"&#;&#x;&#xG;&#",
		"&",
		"&&&;",
		"&#13;&#10;",
		"a\r\nb\rc\nd",
		"a\x00b",
		"&amp\x00",
		"&Aacute&aacute;&Aacutex",
		"&ThisIsNotAnEntity;",
		"€ and ✓",
	}
	for _, raw := range tests {
		want := tokenizerAttrValue(raw)
		if got := string(appendAttrValue(nil, []byte(raw))); got != want {
			t.Errorf("appendAttrValue(%q): got %q, want %q", raw, got, want)
		}
	}
}

func TestLookupEntityShortcuts(t *testing.T) {
	for _, name := range []string{"amp;", "amp", "quot;", "quot", "lt;", "lt", "gt;", "gt", "apos;", "nbsp;", "nbsp"} {
		r1, r2, ok := lookupEntity([]byte(name))
		p1, p2, pok := probeEntity(name)
		if r1 != p1 || r2 != p2 || ok != pok {
			t.Errorf("lookupEntity(%q): got (%q, %q, %v), want (%q, %q, %v) as the table says", name, r1, r2, ok, p1, p2, pok)
		}
	}
}

func TestNeedsDecoding(t *testing.T) {
	tests := []struct {
		raw  string
		want int
	}{
		{"", 0},
		{"/cart", 5},
		{"/products/12/edit/now", 21},
		{"/products/12&amp;x", 12},
		{"0123456789abcdef\r", 16},
		{"01234567\x00", 8},
		{"&", 0},
		{"é&", 2},
	}
	for _, tt := range tests {
		if got := needsDecoding([]byte(tt.raw)); got != tt.want {
			t.Errorf("needsDecoding(%q): got %d, want %d", tt.raw, got, tt.want)
		}
	}
}

func TestAppendEscapedAttr(t *testing.T) {
	v := "/a?x=1&y='2'<3>\"4\"\r\n"
	escaped := appendEscapedAttr(nil, []byte(v))
	if bytes.ContainsAny(escaped, "\"\r") {
		t.Errorf("appendEscapedAttr(%q) = %q: a quote or CR is left", v, escaped)
	}
	if got := tokenizerAttrValue(string(escaped)); got != v {
		t.Errorf("round trip of %q: got %q", v, got)
	}
}
