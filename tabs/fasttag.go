package tabs

import (
	"encoding/binary"
	"math/bits"
)

// fastTag scans the tag whose '<' is at b[s] when all of it is within b,
// which is nearly always. It reads the tag exactly as scanTag does, but in
// one go: with no need to stop and resume, it keeps its position in
// registers instead of in w.tag, and it does no more per attribute than
// find where the name and the value end and, only for a name that might be
// a candidate, look it up. When b ends before the tag does, it returns
// false and scanTag reads the tag from the start.
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
	i := skipTo(b, nameStart+1, classNameEnd)
	if i >= len(b) {
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
	return w.fastAttrs(b, s, i, 0, end)
}

// resumeTag finishes, as fastTag would, the start tag at b[s] with an
// ordinary name (not meta, no raw text), from b[i], between its
// attributes, where plainRun stopped; n is as for fastAttrs.
func (w *Writer) resumeTag(b []byte, s, i, n int) (next int, ok bool) {
	if limit := s + w.r.maxTagBytes; len(b) > limit {
		if i > limit {
			return 0, false
		}
		// plainRun judged the shape with the bytes past the limit.
		b, n = b[:limit], 0
	}
	w.tag.start, w.tag.end = s, false
	w.rawName, w.tag.meta = "", false
	return w.fastAttrs(b, s, i, n, false)
}

// fastAttrs reads the attributes of the tag at b[s] from b[i] on, up to
// the end of the tag, for fastTag. A name length n > 0 says that b[i]
// starts a plain attribute whose name may be a candidate, as found by
// skipPlainAttrs.
func (w *Writer) fastAttrs(b []byte, s, i, n int, end bool) (next int, ok bool) {
	attrs := &w.r.attrs
	for {
		if n == 0 && !w.tag.meta {
			i, n = skipPlainAttrs(b, i, attrs)
		}
		if n > 0 {
			// A plain attribute whose name may be a candidate: its
			// shape is known, so only the name needs looking up.
			keyStart := i + 1
			attr := -1
			if !end {
				attr = attrs.lookupWord(binary.LittleEndian.Uint64(b[keyStart:keyStart+8]), n)
			}
			valStart := keyStart + n + 2
			k := indexByteFrom(b, valStart, b[valStart-1])
			if k < 0 {
				goto giveUp
			}
			if attr >= 0 {
				w.attrDone(attr, valStart-s, k-s, b[valStart-1])
			}
			i, n = k+1, 0
			continue
		}
		// Between attributes the tokenizer skips white space and '/'; a
		// "/>" ends the tag like '>'.
		for {
			if i >= len(b) {
				goto giveUp
			}
			if byteClass[b[i]]&classGap == 0 {
				break
			}
			i++
		}
		if b[i] == '>' {
			if end || len(w.buf.attrs) == 0 && w.rawName == "" {
				// Nothing to rewrite, and text follows.
				return i + 1, true
			}
			return w.startTagDone(b, s, i+1), true
		}

		// The name. Its first byte is never its end, not even an '='.
		keyStart := i
		i = skipTo(b, i+1, classKeyEnd)
		if i >= len(b) {
			goto giveUp
		}
		attr := -1
		if !end && attrs.mayHave(b[keyStart:i]) {
			if n := i - keyStart; n <= 8 && keyStart+8 <= len(b) {
				attr = attrs.lookupWord(binary.LittleEndian.Uint64(b[keyStart:keyStart+8]), n)
			} else {
				attr = attrs.lookup(b[keyStart:i])
			}
		}

		// Most names are followed by '=' and a quoted value.
		if b[i] == '=' && i+1 < len(b) {
			if q := b[i+1]; q == '"' || q == '\'' {
				valStart := i + 2
				k := -1
				if valStart+8 <= len(b) {
					if found := zeroBytes(binary.LittleEndian.Uint64(b[valStart:valStart+8]) ^ ones*uint64(q)); found != 0 {
						k = valStart + bits.TrailingZeros64(found)>>3
					} else {
						k = indexByteFrom(b, valStart+8, q)
					}
				} else {
					k = indexByteFrom(b, valStart, q)
				}
				if k < 0 {
					goto giveUp
				}
				if attr >= 0 {
					w.attrDone(attr, valStart-s, k-s, q)
				}
				i = k + 1
				continue
			}
		}

		// After the name: white space, then '=' or the end of a name
		// without a value.
		for byteClass[b[i]]&classSpace != 0 {
			if i++; i >= len(b) {
				goto giveUp
			}
		}
		switch b[i] {
		case '/':
			i++
			if attr >= 0 {
				w.attrDone(attr, i-s, i-s, 0)
			}
			continue
		case '=':
		default:
			if attr >= 0 {
				w.attrDone(attr, i-s, i-s, 0)
			}
			continue
		}

		// After '=': white space, then the value.
		i++
		for {
			if i >= len(b) {
				goto giveUp
			}
			if byteClass[b[i]]&classSpace == 0 {
				break
			}
			i++
		}
		switch q := b[i]; q {
		case '>':
			if attr >= 0 {
				w.attrDone(attr, i-s, i-s, 0)
			}
		case '"', '\'':
			k := indexByteFrom(b, i+1, q)
			if k < 0 {
				goto giveUp
			}
			if attr >= 0 {
				w.attrDone(attr, i+1-s, k-s, q)
			}
			i = k + 1
		default:
			valStart := i
			i = skipTo(b, i, classValueEnd)
			if i >= len(b) {
				goto giveUp
			}
			if attr >= 0 {
				w.attrDone(attr, valStart-s, i-s, 0)
			}
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

// plainRun skips from b[i] on, in text, what needs neither rewriting nor
// any state: text, end tags of the form "</name>", and start tags with an
// ordinary name whose attributes skipPlainAttrs skips all of, up to
// MaxTagBytes (maxTag) long. These are most of a page, and this loop
// keeps its state in registers across all of them. It stops at the '<' of
// anything else and returns its index lt, or len(b); for a start tag with
// an ordinary name, attrAt is where skipPlainAttrs stopped inside it
// (after the name) and candidate what it said there, so that resumeTag
// can go on from there, and attrAt is 0 otherwise.
func plainRun(b []byte, i, maxTag int, t *attrTable) (lt, attrAt, candidate int) {
	for {
		for {
			if i+8 > len(b) {
				for i < len(b) && b[i] != '<' {
					i++
				}
				break
			}
			if found := zeroBytes(binary.LittleEndian.Uint64(b[i:i+8]) ^ ones*'<'); found != 0 {
				i += bits.TrailingZeros64(found) >> 3
				break
			}
			i += 8
		}
		j := i
		if j < 0 || j+3 > len(b) {
			return j, 0, 0
		}
		c := b[j+1]
		if c == '/' {
			if !isASCIILetter(b[j+2]) {
				return j, 0, 0
			}
			k := skipTo(b, j+3, classNameEnd)
			if k >= len(b) || b[k] != '>' {
				return j, 0, 0
			}
			i = k + 1
			continue
		}
		if !isASCIILetter(c) {
			return j, 0, 0
		}
		k := skipTo(b, j+2, classNameEnd)
		if n := k - j - 1; n < 64 && specialNames[c]&(1<<n) != 0 {
			return j, 0, 0
		}
		k, n := skipPlainAttrs(b, k, t)
		switch {
		case k < len(b) && b[k] == '>':
			i = k + 1
		case k+1 < len(b) && b[k] == '/' && b[k+1] == '>':
			i = k + 2
		default:
			return j, k, n
		}
		if i-j > maxTag {
			return j, 0, 0
		}
	}
}

// skipPlainAttrs skips the attributes from b[i] on that have the shape
// most attributes have, ` name="value"` or ` name='value'` with a name of
// one to seven bytes, and whose names cannot be in t, outside <meta>. It
// returns the index of the first attribute it does not skip, or of
// whatever else comes first, and when that is an attribute of this shape
// whose name may be in t, the length of the name, else 0. The loop makes
// no calls, so its state stays in registers: most attributes of a page
// cost a few dozen instructions.
func skipPlainAttrs(b []byte, i int, t *attrTable) (next, candidate int) {
	// A name of at most seven bytes, '=', a quote and a word of the value
	// fit in the eighteen bytes checked here.
	for i >= 0 && i+18 <= len(b) && b[i] == ' ' {
		x := binary.LittleEndian.Uint64(b[i+1 : i+9])
		// The name must end at the first '=', with no byte below '!'
		// (white space, controls), '/' or '>' before it, and cannot start
		// with '='.
		equals := zeroBytes(x ^ ones*'=')
		first := equals & -equals
		// '/' and '>' are the bytes that OR 0x11 turns into '?', along
		// with '.' and '?' themselves, which are rare in names and only
		// cost the slower path.
		others := (x-ones*'!')&^x&highs | zeroBytes((x|ones*0x11)^ones*'?')
		if first <= 0x80 || others&(first-1) != 0 {
			break
		}
		n := uint(bits.TrailingZeros64(first)) >> 3
		q := b[i+2+int(n)]
		if q != '"' && q != '\'' {
			break
		}
		// Most names are rejected by their first byte alone.
		if f := t.firstOutsideMeta[byte(x)]; f != 0 && f&t.last[byte(x>>((n-1)*8&63))]&(1<<(n&63)) != 0 {
			return i, int(n) // maybe a candidate
		}
		v := i + 3 + int(n)
		pattern := ones * uint64(q)
		found := zeroBytes(binary.LittleEndian.Uint64(b[v:v+8]) ^ pattern)
		for found == 0 {
			if v += 8; v+8 > len(b) {
				return i, 0
			}
			found = zeroBytes(binary.LittleEndian.Uint64(b[v:v+8]) ^ pattern)
		}
		i = v + bits.TrailingZeros64(found)>>3 + 1
	}
	return i, 0
}
