package tabs

// This file makes a path safe to redirect to. A server that builds a
// Location from its own request path ("/" + what follows the tab prefix)
// must not let the client choose the host: "//evil.example/x" in a
// Location sends the browser to evil.example. The rules are the browser's
// (the WHATWG URL parser), plus one round of decoding by whatever sits in
// between, because some servers and proxies decode %2F and %5C in paths.

// LocalPath returns p as a URL that a browser resolves to a path on the
// same origin as the response carrying it. It is meant for the Location or
// HX-Location of a redirect that a server makes from its own request path,
// possibly with a query, before the tab prefix is put in:
//
//	tabs.Prefix(id, tabs.LocalPath("/" + rest))
//
// The result starts with exactly one '/' and never with anything a browser
// reads as a host:
//
//   - Leading and trailing spaces and control bytes are dropped, as
//     browsers drop them.
//   - The run of '/' and '\' at the start collapses to one '/', skipping
//     the tabs, CRs and LFs that browsers delete anywhere in a URL, and
//     the percent-encoded forms %2F, %5C, %09, %0A and %0D in either case,
//     also encoded again as %252F and so on: "//evil.example/x",
//     "/\evil.example", "/%2F%2Fevil.example" and "/\t/evil.example" all
//     become "/evil.example/...". Collapsing keeps what a browser would
//     have fetched had it stayed on the host, and no decoding of the
//     result by a proxy can bring a second slash back.
//   - A p without a leading '/' ("cart", "http://evil.example") is read as
//     a path from the root, "/cart" and "/http://evil.example": a scheme
//     can only come first, and the result never starts with one.
//   - When what follows the '/' starts with '%' that decodes to '%'
//     ("%25", or a lone '%'), "./" goes in between ("/./%252e"): a browser
//     drops the "." segment, so the path it fetches is the same, and no
//     number of decodings can turn the second byte into a slash.
//   - Spaces, control bytes, bytes from 0x7F up (non-ASCII UTF-8, or
//     invalid UTF-8) and a '%' not followed by two hex digits are
//     percent-encoded, as a browser encodes them in a path, so the
//     result is plain ASCII that net/url parses and a header carries
//     without CR or LF.
//
// Everything else passes through, "." and ".." segments included: "/./x"
// and "/../x" stay on the host. A p that already follows these rules is
// returned as it is, without allocating.
func LocalPath(p string) string {
	start, end := 0, len(p)
	for start < end && p[start] <= ' ' {
		start++
	}
	for end > start && p[end-1] <= ' ' {
		end--
	}
	i := skipSeparators(p, start, end)
	rest := p[i:end]
	dot := startsWithPercentSign(rest)
	if start == 0 && end == len(p) && i == 1 && p[0] == '/' && !dot && !needsPathEscape(rest) {
		return p
	}
	b := make([]byte, 0, len(rest)+3+2*countPathEscapes(rest))
	b = append(b, '/')
	if dot {
		b = append(b, '.', '/')
	}
	b = appendPathEscaped(b, rest)
	return string(b)
}

// skipSeparators returns the index of the first byte of p[i:end] that is
// not part of the leading run LocalPath collapses: '/', '\', tab, CR, LF,
// and the percent-encoded forms of these, also encoded more than once.
func skipSeparators(p string, i, end int) int {
	for i < end {
		switch p[i] {
		case '/', '\\', '\t', '\n', '\r':
			i++
			continue
		case '%':
			if n := encodedSeparator(p[i:end]); n > 0 {
				i += n
				continue
			}
		}
		return i
	}
	return i
}

// encodedSeparator returns the length of the percent-encoded separator at
// the start of s, such as "%2F" or "%25252f", or 0 when there is none.
func encodedSeparator(s string) int {
	j := 1
	for j+2 <= len(s) && s[j] == '2' && s[j+1] == '5' {
		j += 2
	}
	if j+2 > len(s) {
		return 0
	}
	hi, ok1 := unhex(s[j])
	lo, ok2 := unhex(s[j+1])
	if !ok1 || !ok2 {
		return 0
	}
	switch hi<<4 | lo {
	case '/', '\\', '\t', '\n', '\r':
		return j + 2
	}
	return 0
}

// startsWithPercentSign reports whether s starts with a '%' that one round
// of decoding leaves as a '%': "%25", or a '%' that starts no escape and
// that appendPathEscaped turns into "%25".
func startsWithPercentSign(s string) bool {
	if len(s) == 0 || s[0] != '%' {
		return false
	}
	if !isEscape(s, 0) {
		return true
	}
	return s[1] == '2' && s[2] == '5'
}

// isEscape reports whether s[i] is a '%' followed by two hex digits.
func isEscape(s string, i int) bool {
	if i+2 >= len(s) || s[i] != '%' {
		return false
	}
	_, ok1 := unhex(s[i+1])
	_, ok2 := unhex(s[i+2])
	return ok1 && ok2
}

// pathEscapes says which bytes appendPathEscaped encodes: spaces,
// controls and everything from 0x7F up. A '%' depends on what follows.
var pathEscapes = func() (t [256]bool) {
	for c := range 256 {
		t[c] = c <= ' ' || c >= 0x7f
	}
	return t
}()

func needsPathEscape(s string) bool {
	for i := 0; i < len(s); i++ {
		if pathEscapes[s[i]] || s[i] == '%' && !isEscape(s, i) {
			return true
		}
	}
	return false
}

func countPathEscapes(s string) int {
	n := 0
	for i := 0; i < len(s); i++ {
		if pathEscapes[s[i]] || s[i] == '%' && !isEscape(s, i) {
			n++
		}
	}
	return n
}

// appendPathEscaped appends s to dst with the bytes in pathEscapes, and
// each '%' that starts no escape, percent-encoded.
func appendPathEscaped(dst []byte, s string) []byte {
	const hex = "0123456789ABCDEF"
	for i := 0; i < len(s); i++ {
		c := s[i]
		if pathEscapes[c] || c == '%' && !isEscape(s, i) {
			dst = append(dst, '%', hex[c>>4], hex[c&15])
			continue
		}
		dst = append(dst, c)
	}
	return dst
}

func unhex(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	case 'A' <= c && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}
