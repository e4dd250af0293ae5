package tabs

import (
	"encoding/binary"
	"math/bits"
)

// This file finds the URLs inside attribute values that hold more than a
// URL, following the HTML standard's parsing rules so that the URLs found
// are the ones a browser would fetch.

// span is a range of bytes, start inclusive, end exclusive.
type span struct{ start, end int }

// isHTMLSpace reports whether c is ASCII whitespace as HTML defines it.
func isHTMLSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\f' || c == '\r'
}

// appendSrcsetURLs appends the spans of the candidate URLs in the srcset
// value v to dst, following "parse a srcset attribute": candidates are
// separated by commas, but a URL may itself contain commas (data: URLs) and
// so may a parenthesised descriptor.
func appendSrcsetURLs(dst []span, v []byte) []span {
	for i := 0; ; {
		var url span
		var ok bool
		if url, i, ok = nextSrcsetURL(v, i); !ok {
			return dst
		}
		dst = append(dst, url)
	}
}

// nextSrcsetURL returns the span of the next candidate URL in the srcset
// value v from v[i] on, and where the candidate after it starts; ok is
// false when there are no more.
func nextSrcsetURL(v []byte, i int) (url span, next int, ok bool) {
	for i < len(v) && (isHTMLSpace(v[i]) || v[i] == ',') {
		i++
	}
	if i == len(v) {
		return span{}, i, false
	}
	start := i
	i = indexHTMLSpace(v, i)
	end := i
	if v[end-1] == ',' {
		for v[end-1] == ',' {
			end--
		}
		return span{start, end}, i, true
	}
	return span{start, end}, skipDescriptors(v, i), true
}

// indexHTMLSpace returns the index of the first HTML white space byte in v
// at or after i, or len(v). It tests eight bytes at a time for a byte
// below '!', where all white space lies, then checks the byte it found.
func indexHTMLSpace(v []byte, i int) int {
	for ; i+8 <= len(v); i += 8 {
		x := binary.LittleEndian.Uint64(v[i : i+8])
		// The lowest bit set marks the first byte below '!'.
		for below := (x - ones*'!') &^ x & highs; below != 0; below &= below - 1 {
			if k := i + bits.TrailingZeros64(below)/8; isHTMLSpace(v[k]) {
				return k
			}
		}
	}
	for ; i < len(v); i++ {
		if isHTMLSpace(v[i]) {
			return i
		}
	}
	return len(v)
}

// skipDescriptors returns the index just past the comma that ends the
// descriptors starting at v[i], or len(v).
func skipDescriptors(v []byte, i int) int {
	inParens := false
	for ; i < len(v); i++ {
		switch c := v[i]; {
		case inParens:
			inParens = c != ')'
		case c == ',':
			return i + 1
		case c == '(':
			inParens = true
		}
	}
	return i
}

// refreshURL returns the span of the URL in the content value v of a
// <meta http-equiv=refresh>, such as "0;url=/x" or "0; URL='/x'",
// following the standard's "shared declarative refresh steps".
func refreshURL[T string | []byte](v T) (start, end int, ok bool) {
	i := skipHTMLSpace(v, 0)
	digits := i
	for i < len(v) && isDigit(v[i]) {
		i++
	}
	if i == digits && (i == len(v) || v[i] != '.') {
		return 0, 0, false
	}
	for i < len(v) && (isDigit(v[i]) || v[i] == '.') {
		i++
	}
	if i < len(v) {
		if c := v[i]; c != ';' && c != ',' && !isHTMLSpace(c) {
			return 0, 0, false
		}
		i = skipHTMLSpace(v, i)
		if i < len(v) && (v[i] == ';' || v[i] == ',') {
			i++
		}
		i = skipHTMLSpace(v, i)
	}
	if i == len(v) {
		return 0, 0, false
	}
	i = skipURLEquals(v, i)
	var quote byte
	if i < len(v) && (v[i] == '\'' || v[i] == '"') {
		quote = v[i]
		i++
	}
	start, end = i, len(v)
	if quote != 0 {
		for j := start; j < end; j++ {
			if v[j] == quote {
				end = j
				break
			}
		}
	}
	return start, end, true
}

// skipURLEquals returns the index after a case-insensitive "url =" at
// v[i], or i when there is none: then the URL starts at v[i] itself.
func skipURLEquals[T string | []byte](v T, i int) int {
	j := i
	for _, want := range [...]byte{'u', 'r', 'l'} {
		if j == len(v) || v[j]|0x20 != want {
			return i
		}
		j++
	}
	j = skipHTMLSpace(v, j)
	if j == len(v) || v[j] != '=' {
		return i
	}
	return skipHTMLSpace(v, j+1)
}

func skipHTMLSpace[T string | []byte](v T, i int) int {
	for i < len(v) && isHTMLSpace(v[i]) {
		i++
	}
	return i
}
