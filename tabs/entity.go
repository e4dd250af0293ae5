package tabs

import (
	"strings"
	"unicode/utf8"

	"golang.org/x/net/html"
)

// This file turns the raw bytes of an attribute value into the value the
// HTML tokenizer reports, and back. URLs are judged on the decoded value:
// href="&#x2F;cart" is the URL /cart.

// appendAttrValue appends the value of the raw attribute value to dst the
// way golang.org/x/net/html's Tokenizer.TagAttr decodes it: NUL becomes
// U+FFFD, CR LF and lone CR become LF, and character references are decoded
// with the rules for attribute values.
func appendAttrValue(dst, raw []byte) []byte {
	for i := 0; i < len(raw); {
		switch c := raw[i]; c {
		case 0:
			dst = append(dst, "\uFFFD"...)
			i++
		case '\r':
			dst = append(dst, '\n')
			i++
			if i < len(raw) && raw[i] == '\n' {
				i++
			}
		case '&':
			r1, r2, n := decodeReference(raw[i:])
			dst = utf8.AppendRune(dst, r1)
			if r2 != 0 {
				dst = utf8.AppendRune(dst, r2)
			}
			i += n
		default:
			dst = append(dst, c)
			i++
		}
	}
	return dst
}

// windows1252 replaces the numeric references &#x80; to &#x9F;, which old
// pages meant as Windows-1252.
var windows1252 = [32]rune{
	'\u20AC', '\u0081', '\u201A', '\u0192', '\u201E', '\u2026', '\u2020', '\u2021',
	'\u02C6', '\u2030', '\u0160', '\u2039', '\u0152', '\u008D', '\u017D', '\u008F',
	'\u0090', '\u2018', '\u2019', '\u201C', '\u201D', '\u2022', '\u2013', '\u2014',
	'\u02DC', '\u2122', '\u0161', '\u203A', '\u0153', '\u009D', '\u017E', '\u0178',
}

// decodeReference decodes the character reference at the start of s, which
// begins with '&', as one inside an attribute value. It returns the one or
// two runes it stands for and its length, or ('&', 0, 1) when s does not
// start a reference.
func decodeReference(s []byte) (r1, r2 rune, n int) {
	if len(s) <= 1 {
		return '&', 0, 1
	}
	if s[1] == '#' {
		return decodeNumericReference(s)
	}
	i := 1
	for i < len(s) && isASCIIAlnum(s[i]) {
		i++
	}
	if i < len(s) && s[i] == ';' {
		i++
	}
	name := s[1:i]
	if len(name) == 0 {
		return '&', 0, 1
	}
	// "&amp=" in a URL query is a parameter named "amp", not an ampersand.
	if name[len(name)-1] != ';' && i < len(s) && s[i] == '=' {
		return '&', 0, 1
	}
	if r1, r2, ok := lookupEntity(name); ok {
		return r1, r2, i
	}
	return '&', 0, 1
}

func decodeNumericReference(s []byte) (r rune, r2 rune, n int) {
	if len(s) <= 2 {
		return '&', 0, 1
	}
	i := 2
	hex := s[i] == 'x' || s[i] == 'X'
	if hex {
		i++
	}
	i0 := i
	var x rune
	for ; i < len(s); i++ {
		c := s[i]
		var d rune
		switch {
		case isDigit(c):
			d = rune(c - '0')
		case hex && 'a' <= c && c <= 'f':
			d = rune(c-'a') + 10
		case hex && 'A' <= c && c <= 'F':
			d = rune(c-'A') + 10
		default:
			goto done
		}
		if x <= utf8.MaxRune {
			if hex {
				x = 16*x + d
			} else {
				x = 10*x + d
			}
		}
	}
done:
	if i == i0 {
		return '&', 0, 1
	}
	if i < len(s) && s[i] == ';' {
		i++
	}
	switch {
	case 0x80 <= x && x <= 0x9F:
		x = windows1252[x-0x80]
	case x == 0 || (0xD800 <= x && x <= 0xDFFF) || x > utf8.MaxRune:
		x = utf8.RuneError
	}
	return x, 0, i
}

func isASCIIAlnum(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || isDigit(c)
}

// lookupEntity returns the runes of the named character reference name
// (letters and digits, optionally followed by ';'), matched exactly as
// attribute values require. The references common in URLs are answered
// here; the rest are asked of the html package, whose table is the one
// the tokenizer uses.
func lookupEntity(name []byte) (r1, r2 rune, ok bool) {
	switch string(name) {
	case "amp;", "amp":
		return '&', 0, true
	case "quot;", "quot":
		return '"', 0, true
	case "lt;", "lt":
		return '<', 0, true
	case "gt;", "gt":
		return '>', 0, true
	case "apos;":
		return '\'', 0, true
	case "nbsp;", "nbsp":
		return '\u00A0', 0, true
	}
	return probeEntity(string(name))
}

// probeEntity looks name up through html.UnescapeString. That function
// decodes text, where "&notit;" falls back to its longest known prefix
// ("¬it;"); an attribute value never does, so such a partial match counts
// as no match. A partial match is one rune followed by an unconsumed tail
// of name at least two bytes shorter than name, which no exact match looks
// like: the second rune of a two-rune entity is never the last byte of its
// name.
func probeEntity(name string) (r1, r2 rune, ok bool) {
	probe := "&" + name
	got := html.UnescapeString(probe)
	if got == probe {
		return 0, 0, false
	}
	r1, size := utf8.DecodeRuneInString(got)
	rest := got[size:]
	if rest != "" && len(rest) <= len(name)-2 && strings.HasSuffix(name, rest) {
		return 0, 0, false
	}
	if rest != "" {
		r2, _ = utf8.DecodeRuneInString(rest)
	}
	return r1, r2, true
}

// appendEscapedAttr appends v escaped for a double-quoted attribute value,
// with the same escapes as the html package.
func appendEscapedAttr(dst, v []byte) []byte {
	for _, c := range v {
		switch c {
		case '&':
			dst = append(dst, "&amp;"...)
		case '\'':
			dst = append(dst, "&#39;"...)
		case '<':
			dst = append(dst, "&lt;"...)
		case '>':
			dst = append(dst, "&gt;"...)
		case '"':
			dst = append(dst, "&#34;"...)
		case '\r':
			dst = append(dst, "&#13;"...)
		default:
			dst = append(dst, c)
		}
	}
	return dst
}
