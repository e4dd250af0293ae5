package tabs

import "strconv"

// ID is the number of a tab: the N in "/N/cart". It is not a secret; the
// session cookie is what authenticates, the ID only selects a tab inside it.
type ID uint32

// DefaultMaxID is the largest ID that Parse accepts. Keeping IDs short keeps
// URLs short and makes a long run of digits an ordinary path segment rather
// than a tab prefix.
const DefaultMaxID ID = 999_999

// maxIDDigits is the number of decimal digits in the largest uint32, the
// longest segment worth converting before comparing against a maximum.
const maxIDDigits = 10

// String returns the decimal form of id, the one used in URLs.
func (id ID) String() string {
	return strconv.FormatUint(uint64(id), 10)
}

// appendID appends the tab prefix "/N" for id to dst.
func appendID(dst []byte, id ID) []byte {
	dst = append(dst, '/')
	return strconv.AppendUint(dst, uint64(id), 10)
}

// Parse splits a canonical tab prefix off path:
//
//	"/3/cart" → (3, "/cart", true)
//	"/3" and "/3/" → (3, "/", true)
//
// Only the canonical decimal form of an ID up to DefaultMaxID is a prefix:
// "/007/", "/-1/", "/+1/", "/1e3/", "/%31/", "//3/", "/ 3/" and "/3x/" are
// not, so every tab has exactly one spelling.
func Parse(path string) (id ID, rest string, ok bool) {
	return ParseMax(path, DefaultMaxID)
}

// ParseMax is Parse with max as the largest accepted ID. A max of zero
// accepts only tab 0.
func ParseMax(path string, max ID) (id ID, rest string, ok bool) {
	id, n, ok := parsePrefix(path, max)
	if !ok {
		return 0, "", false
	}
	if n == len(path) {
		return id, "/", true
	}
	return id, path[n:], true
}

// SplitPrefix reports whether path starts with a canonical tab prefix
// "/N" with N ≤ max, followed by the end of path or '/', and returns the
// ID and the length of "/N":
//
//	"/3/cart" → (3, 2, true): path[2:] is "/cart"
//	"/77"     → (77, 3, true): path[3:] is "", nothing after the prefix
//	"/77/"    → (77, 3, true): path[3:] is "/"
//
// Unlike ParseMax, which turns "/77" and "/77/" both into the rest "/",
// the length tells exactly how many bytes the prefix took, so a caller
// can cut it from both forms of a request path: the prefix is plain
// ASCII without '%', so when it starts the escaped path
// (url.URL.EscapedPath) the unescaped path (url.URL.Path) starts with the
// same prefixLen bytes. Judge the escaped path, so that "/%37/" is not
// tab 7. The spellings refused are those of Parse.
func SplitPrefix(path string, max ID) (id ID, prefixLen int, ok bool) {
	return parsePrefix(path, max)
}

// parsePrefix reads a canonical "/N" at the start of path, which must be
// followed by the end of path or '/'. It returns the ID and the length of
// "/N".
func parsePrefix[T string | []byte](path T, max ID) (id ID, n int, ok bool) {
	id, n, ok = parseSegment(path, max)
	if !ok || (n < len(path) && path[n] != '/') {
		return 0, 0, false
	}
	return id, n, true
}

// parseSegment reads "/N" at the start of path in canonical form (no sign,
// no leading zero, ASCII digits only) with N ≤ max, ignoring what follows.
func parseSegment[T string | []byte](path T, max ID) (id ID, n int, ok bool) {
	if len(path) < 2 || path[0] != '/' {
		return 0, 0, false
	}
	end := 1
	for end < len(path) && isDigit(path[end]) {
		end++
	}
	digits := end - 1
	if digits == 0 || digits > maxIDDigits || (digits > 1 && path[1] == '0') {
		return 0, 0, false
	}
	var v uint64
	for i := 1; i < end; i++ {
		v = v*10 + uint64(path[i]-'0')
	}
	if v > uint64(max) {
		return 0, 0, false
	}
	return ID(v), end, true
}

// ParseNew recognises the entry point that opens a new tab:
//
//	"/+/cart" → ("/cart", true)
//	"/+" and "/+/" → ("/", true)
func ParseNew(path string) (rest string, ok bool) {
	if len(path) < 2 || path[0] != '/' || path[1] != '+' {
		return "", false
	}
	switch {
	case len(path) == 2:
		return "/", true
	case path[2] == '/':
		return path[2:], true
	}
	return "", false
}

// HasNumericFirstSegment reports whether the first segment of path is made
// of ASCII digits only, as in "/123/x" or "/0". Such a route could never be
// reached, because the tab prefix would be stripped from it; it is refused
// when routes are wired. A pattern such as "/:id" is not numeric.
func HasNumericFirstSegment(path string) bool {
	if len(path) > 0 && path[0] == '/' {
		path = path[1:]
	}
	n := 0
	for n < len(path) && path[n] != '/' {
		if !isDigit(path[n]) {
			return false
		}
		n++
	}
	return n > 0
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }
