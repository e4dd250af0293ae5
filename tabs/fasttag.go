package tabs

import (
	"encoding/binary"
	"math/bits"
)

// fastTag scans the tag whose '<' is at b[s] when it has the shape almost
// every tag has: a name, then attributes separated by white space, each a
// name optionally followed by '=' and a quoted or unquoted value, then '>'
// or "/>", all within b. In that shape the tokenizer's reading
// is the obvious one, and this straight-line loop finds it without the
// general scanner's bookkeeping. Anything else (a buffer that ends
// mid-tag, white space around '=', a stray '/') makes it give up and
// return false, and scanTag reads the tag from the start.
func (w *Writer) fastTag(b []byte, s int, end bool) (next int, ok bool) {
	// Only the tag's own bytes matter from here on, and a tag longer than
	// MaxTagBytes is left to scanTag.
	if limit := s + w.r.maxTagBytes; len(b) > limit {
		b = b[:limit]
	}
	nameStart := s + 1
	if end {
		nameStart++
	}
	i := nameStart + 1
	for i < len(b) && byteClass[b[i]]&classNameEnd == 0 {
		i++
	}
	if i == len(b) {
		return 0, false
	}
	if end {
		if b[i] == '>' {
			return i + 1, true
		}
	} else {
		w.tag.start, w.tag.end = s, false
		if n := i - nameStart; n < 64 && specialNames[b[nameStart]]&(1<<n) != 0 {
			w.nameDone(b[nameStart:i])
		} else {
			w.rawName, w.tag.meta = "", false
		}
	}
	for {
		// The dominant shape, ` name="value"` with a name of fewer than
		// sixteen bytes, is recognised a word at a time.
		if i+18 <= len(b) && b[i] == ' ' {
			// A byte below '!' (white space, controls), '/' or '>' before
			// the '=' would end the name early, and a name cannot start
			// with '='.
			x := binary.LittleEndian.Uint64(b[i+1:])
			equals := zeroBytes(x ^ ones*'=')
			first := equals & -equals
			others := (x-ones*'!')&^x&highs | zeroBytes(x^ones*'/') | zeroBytes(x^ones*'>')
			n := 0
			if first > 0x80 && others&(first-1) == 0 {
				n = bits.TrailingZeros64(first) >> 3
			} else if first == 0 && others == 0 {
				n = longKeyBeforeEquals(b, i+9)
			}
			keyStart, keyEnd := i+1, i+1+n
			if q := b[keyEnd+1]; n > 0 && (q == '"' || q == '\'') {
				attr := -1
				if !end && w.r.attrs.mayHave(b[keyStart:keyEnd]) {
					if n <= 8 {
						attr = w.r.attrs.lookupWord(x, n)
					} else {
						attr = w.r.attrs.lookup(b[keyStart:keyEnd])
					}
				}
				valStart := keyEnd + 2
				k := valStart
				if found := zeroBytes(binary.LittleEndian.Uint64(b[valStart:]) ^ ones*uint64(q)); found != 0 {
					k += bits.TrailingZeros64(found) >> 3
				} else if k = indexByteFrom(b, valStart+8, q); k < 0 {
					goto giveUp
				}
				w.attrDone(attr, valStart-s, k-s, q)
				i = k + 1
				continue
			}
		}
		if i+1 < len(b) && b[i] == ' ' && byteClass[b[i+1]]&classSpace == 0 {
			i++ // the usual single space
		} else {
			for i < len(b) && byteClass[b[i]]&classSpace != 0 {
				i++
			}
		}
		if i+1 >= len(b) {
			break
		}
		switch b[i] {
		case '>':
			if end || len(w.buf.attrs) == 0 && w.rawName == "" {
				// Nothing to rewrite, and text follows.
				return i + 1, true
			}
			return w.startTagDone(b, s, i+1), true
		case '/':
			if b[i+1] != '>' {
				goto giveUp
			}
			if end {
				return i + 2, true
			}
			return w.startTagDone(b, s, i+2), true
		case '=':
			goto giveUp
		}
		keyStart := i
		for i < len(b) && byteClass[b[i]]&classKeyEnd == 0 {
			i++
		}
		if i+1 >= len(b) {
			break
		}
		attr := -1
		if !end && w.r.attrs.mayHave(b[keyStart:i]) {
			attr = w.r.attrs.lookup(b[keyStart:i])
		}
		switch c := b[i]; {
		case c == '=':
		case c == '>' || c == '/':
			w.attrDone(attr, i-s, i-s, 0)
			continue
		default:
			// White space after the name: a name without a value, unless
			// an '=' follows.
			j := i + 1
			for j < len(b) && byteClass[b[j]]&classSpace != 0 {
				j++
			}
			if j == len(b) || b[j] == '=' {
				goto giveUp
			}
			w.attrDone(attr, i-s, i-s, 0)
			i = j
			continue
		}
		i++
		switch c := b[i]; {
		case c == '"' || c == '\'':
			k := indexByteFrom(b, i+1, c)
			if k < 0 {
				goto giveUp
			}
			w.attrDone(attr, i+1-s, k-s, c)
			i = k + 1
		case byteClass[c]&classValueEnd != 0:
			goto giveUp
		default:
			valStart := i
			for i < len(b) && byteClass[b[i]]&classValueEnd == 0 {
				i++
			}
			if i == len(b) {
				goto giveUp
			}
			w.attrDone(attr, valStart-s, i-s, 0)
		}
	}
giveUp:
	w.buf.attrs = w.buf.attrs[:0]
	return 0, false
}

// specialNames[c] has bit n set when a tag name of n bytes starting with
// c, in either case, might be meta or an element with raw text content;
// the other tags skip nameDone.
var specialNames = func() (t [256]uint64) {
	for _, name := range []string{"meta", "iframe", "noembed", "noframes", "noscript", "plaintext", "script", "style", "textarea", "title", "xmp"} {
		t[name[0]] |= 1 << len(name)
		t[name[0]-('a'-'A')] |= 1 << len(name)
	}
	return t
}()

// longKeyBeforeEquals returns 8+n when b[j:] starts with n < 8 bytes of
// an attribute name and '=', with eight bytes after the '=' in b, the
// second word of a name that the caller found to be longer than seven
// bytes; otherwise it returns 0.
func longKeyBeforeEquals(b []byte, j int) int {
	if j+17 > len(b) {
		return 0
	}
	x := binary.LittleEndian.Uint64(b[j:])
	equals := zeroBytes(x ^ ones*'=')
	others := (x-ones*'!')&^x&highs | zeroBytes(x^ones*'/') | zeroBytes(x^ones*'>')
	if first := equals & -equals; first != 0 && others&(first-1) == 0 {
		return 8 + bits.TrailingZeros64(first)>>3
	}
	return 0
}
