package tabs

// This file decides whether a URL gets a tab prefix and where it goes. The
// browser, not the string, is the judge: the WHATWG URL parser ignores
// leading and trailing C0 controls and spaces, drops tabs and newlines
// anywhere, and reads "/\host" like "//host". Looking at URLs the same way
// keeps a link to another host pointing there and never gives a URL a
// second prefix.

// Prefix puts the tab prefix "/N" in front of a root-relative URL:
//
//	Prefix(3, "/cart?x=1#f") == "/3/cart?x=1#f"
//	Prefix(3, "/") == "/3/"
//
// Anything that is not root-relative ("//host/x", "http://x", "x/y", "#f",
// "?q", "mailto:x", "") and anything that already starts with a canonical
// tab prefix (up to DefaultMaxID) is returned unchanged. Prefix knows no
// exemptions; Rewriter.URL does.
func Prefix(id ID, url string) string {
	start, end, ok := rootRelative(url)
	if !ok || hasTabPrefix(url, start, end, DefaultMaxID) {
		return url
	}
	return insertPrefix(url, start, id)
}

// insertPrefix returns u with "/N" inserted before u[at].
func insertPrefix(u string, at int, id ID) string {
	b := make([]byte, 0, len(u)+1+maxIDDigits)
	b = append(b, u[:at]...)
	b = appendID(b, id)
	b = append(b, u[at:]...)
	return string(b)
}

// rootRelative reports whether u is a path on the current host, such as
// "/cart", and returns the bounds of the part a browser parses: start is the
// index of the leading '/', where a prefix goes.
func rootRelative[T string | []byte](u T) (start, end int, ok bool) {
	start, end = 0, len(u)
	for start < end && u[start] <= ' ' {
		start++
	}
	for end > start && u[end-1] <= ' ' {
		end--
	}
	if start == end || u[start] != '/' {
		return 0, 0, false
	}
	if i := nextVisible(u, start+1, end); i < end && (u[i] == '/' || u[i] == '\\') {
		return 0, 0, false
	}
	return start, end, true
}

// nextVisible returns the index of the first byte at or after i that is not
// a tab or newline, or end.
func nextVisible[T string | []byte](u T, i, end int) int {
	for i < end && (u[i] == '\t' || u[i] == '\n' || u[i] == '\r') {
		i++
	}
	return i
}

// endsPathSegment reports whether u[i] (or the end of u[:end]) closes the
// first path segment of a URL.
func endsPathSegment[T string | []byte](u T, i, end int) bool {
	return i == end || u[i] == '/' || u[i] == '?' || u[i] == '#'
}

// hasTabPrefix reports whether the URL u[start:end], which begins with '/',
// already carries a canonical tab prefix "/N" with N ≤ max.
func hasTabPrefix[T string | []byte](u T, start, end int, max ID) bool {
	i := start + 1
	var v uint64
	digits, first := 0, byte(0)
	for {
		i = nextVisible(u, i, end)
		if i == end || !isDigit(u[i]) {
			break
		}
		if digits == 0 {
			first = u[i]
		}
		digits++
		if digits > maxIDDigits {
			return false
		}
		v = v*10 + uint64(u[i]-'0')
		i++
	}
	if digits == 0 || (digits > 1 && first == '0') || v > uint64(max) {
		return false
	}
	return endsPathSegment(u, i, end)
}

// matchesExempt reports whether the URL u[start:end] falls under the exempt
// entry e. An entry ending in '/' is a plain prefix; any other entry must be
// followed by the end of the path segment, so "/healthz" covers
// "/healthz?x" and "/healthz/y" but not "/healthzz".
func matchesExempt[T string | []byte](u T, start, end int, e string) bool {
	i := start
	for k := 0; k < len(e); k++ {
		i = nextVisible(u, i, end)
		if i == end || u[i] != e[k] {
			return false
		}
		i++
	}
	if e[len(e)-1] == '/' {
		return true
	}
	return endsPathSegment(u, nextVisible(u, i, end), end)
}
