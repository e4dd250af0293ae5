package tabs

import (
	"fmt"
	"net/url"
	"strings"
	"testing"
)

func TestLocalPath(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"plain", "/cart", "/cart"},
		{"query", "/cart?x=1&y=%2F", "/cart?x=1&y=%2F"},
		{"fragment", "/cart#f", "/cart#f"},
		{"root", "/", "/"},
		{"empty", "", "/"},
		{"no leading slash", "cart/x", "/cart/x"},
		{"query only", "?x=1", "/?x=1"},
		{"scheme", "http://evil.example/x", "/http://evil.example/x"},
		{"javascript", "javascript:alert(1)", "/javascript:alert(1)"},
		{"protocol-relative", "//evil.example/x", "/evil.example/x"},
		{"many slashes", "////evil.example", "/evil.example"},
		{"backslash", `/\evil.example`, "/evil.example"},
		{"two backslashes", `/\\evil`, "/evil"},
		{"leading backslash", `\\evil`, "/evil"},
		{"encoded slashes", "/%2F%2Fevil.example", "/evil.example"},
		{"encoded slash lower case", "/%2f%2fevil.example", "/evil.example"},
		{"encoded backslash", "/%5Cevil.example", "/evil.example"},
		{"encoded backslash lower case", "/%5cevil", "/evil"},
		{"encoded twice", "/%252F%252Fevil", "/evil"},
		{"encoded three times", "/%25252f/evil", "/evil"},
		{"mixed run", "/\\%2F\t/%5c\r\n//evil", "/evil"},
		{"tab between slashes", "/\t/evil.example", "/evil.example"},
		{"newline between slashes", "/\n/evil.example", "/evil.example"},
		{"encoded tab", "/%09/evil.example", "/evil.example"},
		{"encoded CR LF", "/%0d%0A/evil", "/evil"},
		{"leading spaces", "  //evil", "/evil"},
		{"leading controls", "\x00\x1f//evil", "/evil"},
		{"trailing space", "/cart ", "/cart"},
		{"space then slash", "/ /evil", "/%20/evil"},
		{"dot segment", "/./evil", "/./evil"},
		{"dot dot then slashes", "/..//evil.example", "/..//evil.example"},
		{"dot well-known", "/.well-known/x", "/.well-known/x"},
		{"encoded percent", "/%25", "/./%25"},
		{"encoded percent before escape", "/%25%32%46evil", "/./%25%32%46evil"},
		{"lone percent first", "/%%32%46evil", "/./%25%32%46evil"},
		{"lone percent later", "/a%zz", "/a%25zz"},
		{"percent at end", "/a%", "/a%25"},
		{"percent-encoded UTF-8", "/%E2%82%AC", "/%E2%82%AC"},
		{"UTF-8", "/€", "/%E2%82%AC"},
		{"invalid UTF-8", "/\xff\xfe", "/%FF%FE"},
		{"controls inside", "/a\x00b\x7fc", "/a%00b%7Fc"},
		{"CR LF inside", "/a\r\nSet-Cookie: x", "/a%0D%0ASet-Cookie:%20x"},
		{"backslash later", `/a\b`, `/a\b`},
		{"slashes later", "/a//b", "/a//b"},
		{"slashes in query", "/?next=//evil", "/?next=//evil"},
		{"already prefixed", "/3/cart", "/3/cart"},
		{"only separators", "/\\/%2F", "/"},
		{"only spaces", "   ", "/"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := LocalPath(tt.in)
			if got != tt.want {
				t.Fatalf("LocalPath(%q): got %q, want %q", tt.in, got, tt.want)
			}
			if err := checkLocalPath(tt.in, got); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestLocalPathLong(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"long run of slashes", strings.Repeat("/", 1<<20) + "evil", "/evil"},
		{"long run of encoded slashes", strings.Repeat("%2F", 1<<18) + "evil", "/evil"},
		{"long chain of %25", "/%" + strings.Repeat("25", 1<<18) + "2Fevil", "/evil"},
		{"long chain of %25 without a slash", "/%" + strings.Repeat("25", 1000) + "41", "/./%" + strings.Repeat("25", 1000) + "41"},
		{"long path", "/" + strings.Repeat("a/", 1<<18), "/" + strings.Repeat("a/", 1<<18)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := LocalPath(tt.in)
			if got != tt.want {
				t.Fatalf("LocalPath of %d bytes: got %d bytes starting %q, want %d bytes starting %q",
					len(tt.in), len(got), got[:min(len(got), 20)], len(tt.want), tt.want[:min(len(tt.want), 20)])
			}
			if err := checkLocalPath(tt.in, got); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// TestLocalPathUnchangedAllocatesNothing checks the promise that a path
// that needs no change comes back as it is.
func TestLocalPathUnchangedAllocatesNothing(t *testing.T) {
	p := "/products/12?sort=name&dir=asc#top"
	if n := testing.AllocsPerRun(100, func() { _ = LocalPath(p) }); n != 0 {
		t.Errorf("got %v allocations, want 0", n)
	}
}

// TestBrowserSameOrigin checks the model of the browser itself on the
// spellings it must see as other hosts, so that the checks built on it
// can fail.
func TestBrowserSameOrigin(t *testing.T) {
	tests := []struct {
		url  string
		want bool
	}{
		{"/x", true},
		{"x", true},
		{"", true},
		{"?q", true},
		{"#f", true},
		{"/./x", true},
		{"/%2F%2Fx", true},
		{"https:x", true},
		{"HTTPS:/x", true},
		{"//evil", false},
		{`/\evil`, false},
		{`\\evil`, false},
		{"/\t/evil", false},
		{" //evil", false},
		{"\x00//evil", false},
		{"http://evil", false},
		{"https://evil", false},
		{`https:\\evil`, false},
		{"javascript:alert(1)", false},
		{"ja\tvascript:alert(1)", false},
	}
	for _, tt := range tests {
		if got := browserSameOrigin(tt.url); got != tt.want {
			t.Errorf("browserSameOrigin(%q): got %v, want %v", tt.url, got, tt.want)
		}
	}
}

// browserSameOrigin is a small model of how a browser resolves u against
// a page of https://host.example/, following the WHATWG URL standard:
// leading and trailing C0 controls and spaces are stripped, tabs and
// newlines removed anywhere, '\' is '/' in special schemes such as https,
// and two slashes start a host. It reports whether the result stays on
// host.example.
func browserSameOrigin(u string) bool {
	u = strings.TrimFunc(u, func(r rune) bool { return r <= ' ' })
	u = strings.NewReplacer("\t", "", "\n", "", "\r", "").Replace(u)
	if scheme, rest, ok := urlScheme(u); ok {
		if !strings.EqualFold(scheme, "https") {
			return false
		}
		// The base's own scheme: "https:x" is relative, "https://x"
		// names a host.
		u = rest
	}
	isSlash := func(c byte) bool { return c == '/' || c == '\\' }
	return !(len(u) >= 2 && isSlash(u[0]) && isSlash(u[1]))
}

// urlScheme splits a scheme off u: a letter, then letters, digits, '+',
// '-' or '.', then ':'.
func urlScheme(u string) (scheme, rest string, ok bool) {
	for i := 0; i < len(u); i++ {
		c := u[i]
		switch {
		case 'a' <= c|0x20 && c|0x20 <= 'z':
		case i > 0 && (isDigit(c) || c == '+' || c == '-' || c == '.'):
		case i > 0 && c == ':':
			return u[:i], u[i+1:], true
		default:
			return "", "", false
		}
	}
	return "", "", false
}

// percentDecode decodes the valid escapes of s and leaves the rest, as a
// lenient server or proxy would.
func percentDecode(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if isEscape(s, i) {
			hi, _ := unhex(s[i+1])
			lo, _ := unhex(s[i+2])
			b.WriteByte(hi<<4 | lo)
			i += 2
			continue
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// checkLocalPath checks the promises of LocalPath on in and its result
// out, judged by net/url as a reference and by the model of the browser.
func checkLocalPath(in, out string) error {
	if len(out) == 0 || out[0] != '/' {
		return fmt.Errorf("LocalPath(%q) = %q: no leading '/'", in, out)
	}
	if len(out) > 1 && (out[1] == '/' || out[1] == '\\') {
		return fmt.Errorf("LocalPath(%q) = %q: a second slash", in, out)
	}
	for i := 0; i < len(out); i++ {
		if c := out[i]; c <= ' ' || c >= 0x7f {
			return fmt.Errorf("LocalPath(%q) = %q: byte %#x at %d", in, out, c, i)
		}
	}
	base, _ := url.Parse("https://host.example/")
	ref, err := url.Parse(out)
	if err != nil {
		return fmt.Errorf("LocalPath(%q) = %q, which net/url refuses: %v", in, out, err)
	}
	if res := base.ResolveReference(ref); res.Host != "host.example" || res.Scheme != "https" {
		return fmt.Errorf("LocalPath(%q) = %q resolves to %q", in, out, res)
	}
	// Whatever decodes the result on its way, a browser stays on the host.
	for decoded, round := out, 0; round < 4; round++ {
		if !browserSameOrigin(decoded) {
			return fmt.Errorf("LocalPath(%q) = %q: after %d rounds of decoding, %q leaves the host", in, out, round, decoded)
		}
		decoded = percentDecode(decoded)
	}
	if _, _, ok := rootRelative(out); !ok {
		return fmt.Errorf("LocalPath(%q) = %q: Prefix would not prefix it", in, out)
	}
	if again := LocalPath(out); again != out {
		return fmt.Errorf("LocalPath is not idempotent: %q, then %q, then %q", in, out, again)
	}
	// Printable ASCII without '%' only loses its leading slashes.
	plain := true
	for i := 0; i < len(in); i++ {
		plain = plain && in[i] > ' ' && in[i] < 0x7f && in[i] != '%'
	}
	if want := "/" + strings.TrimLeft(in, `/\`); plain && out != want {
		return fmt.Errorf("LocalPath(%q): got %q, want %q", in, out, want)
	}
	return nil
}

func FuzzLocalPath(f *testing.F) {
	for _, s := range []string{"/cart?x=1", "", "/", "cart", "//evil.example/x", `/\evil.example`, `/\\evil`,
		"/%2F%2Fevil.example", "/%5Cevil.example", "/%5cevil", "/\t/evil.example", "/ /evil", "/./evil",
		"/..//evil.example", "http://evil", "/%252F%252Fevil", "/%%32%46evil", "/\xff\xfe", " \x00//x",
		"/a\r\nSet-Cookie: x", "/%", "/%2", "/%25", "/.%2F%2Fevil"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		if err := checkLocalPath(in, LocalPath(in)); err != nil {
			t.Fatal(err)
		}
	})
}
