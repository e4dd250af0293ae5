package tabs

// This file scans one start or end tag the way golang.org/x/net/html's
// Tokenizer reads tags (readTag and friends), notes the attributes that can
// hold URLs, and rewrites them once the tag is complete. Only the changed
// attribute values are touched; the rest of the tag is copied as is.

// tagPhase is where the tag scanner is inside a tag.
type tagPhase uint8

const (
	phaseName          tagPhase = iota // the tag name
	phaseBeforeAttr                    // white space before an attribute or '>'
	phaseKey                           // an attribute name
	phaseAfterKey                      // after a name: '=', '/' or the next attribute
	phaseBeforeValue                   // after '='
	phaseQuotedValue                   // inside quotes
	phaseUnquotedValue                 // an unquoted value
)

// tagState is the scanner's progress through a tag that may have to wait
// for more bytes. Positions are relative to the tag's '<', so that they
// stay valid when the tag is carried over to another buffer.
type tagState struct {
	start    int // index of the tag's '<' in the buffer being scanned
	pos      int // where scanning resumes
	phase    tagPhase
	end      bool // an end tag, whose attributes mean nothing
	meta     bool // a <meta> tag, whose content may be a refresh URL
	keyStart int
	valStart int
	quote    byte // the quote around the current value, or 0
	attr     int  // index of the current attribute in the attrTable, or -1
}

// attrSpan is a candidate attribute of the current tag: its first
// occurrence, as the tokenizer keeps only that one.
type attrSpan struct {
	start, end int32    // the value, without quotes, relative to '<'
	attr       int16    // index in the attrTable
	kind       attrKind // how the value holds URLs
	quote      byte     // the value's quote, or 0 when unquoted
}

// beginTag starts scanning the tag whose '<' is at buf[j]; its first
// letter has been seen.
func (w *Writer) beginTag(j int, end bool) {
	w.mode = modeTag
	t := &w.tag
	t.start = j
	t.pos = 2 // "<a"
	if end {
		t.pos = 3 // "</a"
	}
	t.phase = phaseName
	t.end = end
	t.meta = false
}

// nameStart is the index of the tag name relative to '<'.
func (t *tagState) nameStart() int {
	if t.end {
		return 2
	}
	return 1
}

// Byte classes for the tag scanner, one table lookup per byte.
const (
	classSpace    = 1 << iota // HTML white space
	classNameEnd              // ends a tag name: space, '/' or '>'
	classKeyEnd               // ends an attribute name: space, '/', '>' or '='
	classValueEnd             // ends an unquoted value: space or '>'
	classGap                  // skipped between attributes: space or '/'
)

var byteClass = func() (t [256]uint8) {
	for _, c := range []byte(" \t\n\f\r") {
		t[c] = classSpace | classNameEnd | classKeyEnd | classValueEnd | classGap
	}
	t['/'] = classNameEnd | classKeyEnd | classGap
	t['>'] = classNameEnd | classKeyEnd | classValueEnd
	t['='] = classKeyEnd
	return t
}()

// scanTag continues the tag at w.tag.start. It returns the index after the
// tag, or stops at the tag's '<' when buf ends first.
func (w *Writer) scanTag(buf []byte) (next int, stop bool) {
	t := &w.tag
	s := t.start
	// A tag longer than MaxTagBytes is never rewritten, however it is split
	// into writes; there is no point scanning past that length.
	b := buf
	limit := s + w.r.maxTagBytes
	if len(b) > limit {
		b = b[:limit]
	}
	i := s + t.pos
	phase, keyStart, valStart, attr := t.phase, t.keyStart, t.valStart, t.attr
	for {
		switch phase {
		case phaseName:
			for i < len(b) && byteClass[b[i]]&classNameEnd == 0 {
				i++
			}
			if i == len(b) {
				goto more
			}
			w.nameDone(b[s+t.nameStart() : i])
			if b[i] != '/' && b[i] != '>' {
				i++
			}
			phase = phaseBeforeAttr
		case phaseBeforeAttr:
			for i < len(b) && byteClass[b[i]]&classSpace != 0 {
				i++
			}
			if i == len(b) {
				goto more
			}
			if b[i] == '>' {
				return w.tagDone(buf, i+1), false
			}
			keyStart = i - s
			phase = phaseKey
			if b[i] == '=' {
				// An '=' that starts a name is part of the name.
				i++
			}
		case phaseKey:
			for i < len(b) && byteClass[b[i]]&classKeyEnd == 0 {
				i++
			}
			if i == len(b) {
				goto more
			}
			attr = -1
			if key := b[s+keyStart : i]; !t.end && w.r.attrs.mayHave(key) {
				attr = w.r.attrs.lookup(key)
			}
			phase = phaseAfterKey
		case phaseAfterKey:
			for i < len(b) && byteClass[b[i]]&classSpace != 0 {
				i++
			}
			if i == len(b) {
				goto more
			}
			switch b[i] {
			case '/':
				i++
				w.attrDone(attr, i-s, i-s, 0)
				phase = phaseBeforeAttr
			case '=':
				i++
				phase = phaseBeforeValue
			default:
				w.attrDone(attr, i-s, i-s, 0)
				phase = phaseBeforeAttr
			}
		case phaseBeforeValue:
			for i < len(b) && byteClass[b[i]]&classSpace != 0 {
				i++
			}
			if i == len(b) {
				goto more
			}
			switch c := b[i]; c {
			case '>':
				w.attrDone(attr, i-s, i-s, 0)
				phase = phaseBeforeAttr
			case '"', '\'':
				t.quote = c
				i++
				valStart = i - s
				phase = phaseQuotedValue
			default:
				valStart = i - s
				phase = phaseUnquotedValue
			}
		case phaseQuotedValue:
			k := indexByteFrom(b, i, t.quote)
			if k < 0 {
				i = len(b)
				goto more
			}
			i = k
			w.attrDone(attr, valStart, i-s, t.quote)
			i++
			phase = phaseBeforeAttr
		case phaseUnquotedValue:
			for i < len(b) && byteClass[b[i]]&classValueEnd == 0 {
				i++
			}
			if i == len(b) {
				goto more
			}
			w.attrDone(attr, valStart, i-s, 0)
			if b[i] != '>' {
				i++
			}
			phase = phaseBeforeAttr
		}
	}
more:
	if len(buf) > limit {
		w.overflow()
		return s, false
	}
	t.phase, t.keyStart, t.valStart, t.attr = phase, keyStart, valStart, attr
	t.pos = i - s
	t.start = 0
	return s, true
}

// nameDone classifies the tag by its name once the name is complete.
func (w *Writer) nameDone(name []byte) {
	t := &w.tag
	if t.end {
		return
	}
	w.rawName = rawTextElement(name)
	t.meta = len(name) == 4 && equalFoldLower(name, "meta")
}

// rawTextElement returns the lower-case name of the element if its content
// is raw text or RCDATA for the tokenizer, or "". The tokenizer treats
// noscript as raw text too, as a browser with scripting does.
func rawTextElement(name []byte) string {
	if len(name) < 3 || len(name) > 9 {
		return ""
	}
	var candidates [3]string
	switch name[0] | 0x20 {
	case 'i':
		candidates[0] = "iframe"
	case 'n':
		candidates = [3]string{"noembed", "noframes", "noscript"}
	case 'p':
		candidates[0] = "plaintext"
	case 's':
		candidates = [3]string{"script", "style"}
	case 't':
		candidates = [3]string{"textarea", "title"}
	case 'x':
		candidates[0] = "xmp"
	default:
		return ""
	}
	for _, n := range candidates {
		if equalFoldLower(name, n) {
			return n
		}
	}
	return ""
}

// attrDone notes the attribute attr (an index in the attrTable, or -1),
// whose value is at [start, end) relative to the tag, if it is a candidate
// seen for the first time.
func (w *Writer) attrDone(attr, start, end int, quote byte) {
	if attr < 0 {
		return
	}
	kind := w.r.attrs.kinds[attr]
	if (kind == kindContent || kind == kindHTTPEquiv) && !w.tag.meta {
		return
	}
	for _, a := range w.buf.attrs {
		if int(a.attr) == attr {
			return
		}
	}
	w.buf.attrs = append(w.buf.attrs, attrSpan{start: int32(start), end: int32(end), attr: int16(attr), kind: kind, quote: quote})
}

// tagDone finishes the tag that ends just before buf[end].
func (w *Writer) tagDone(buf []byte, end int) int {
	w.mode = modeData
	if w.tag.end {
		return end
	}
	return w.startTagDone(buf, w.tag.start, end)
}

// startTagDone rewrites the candidate attributes of the start tag at
// buf[s], which ends just before buf[end], and enters the state that
// follows the tag.
func (w *Writer) startTagDone(buf []byte, s, end int) int {
	if len(w.buf.attrs) > 0 {
		w.rewriteAttrs(buf, s)
		w.buf.attrs = w.buf.attrs[:0]
	}
	switch w.rawName {
	case "":
		w.mode = modeData
	case "script":
		w.mode = modeScript
		w.script = scriptData
	case "plaintext":
		w.mode = modePassthrough
	default:
		w.mode = modeRawText
	}
	return end
}

// rewriteAttrs puts the tab prefix into the candidate attributes of the
// tag at buf[s].
func (w *Writer) rewriteAttrs(buf []byte, s int) {
	refresh := false
	if w.tag.meta {
		for _, a := range w.buf.attrs {
			if a.kind == kindHTTPEquiv {
				raw := buf[s+int(a.start) : s+int(a.end)]
				refresh = equalFoldLower(w.attrValue(raw, needsDecoding(raw)), "refresh")
			}
		}
	}
	for _, a := range w.buf.attrs {
		switch a.kind {
		case kindURL:
			if v := buf[s+int(a.start) : s+int(a.end)]; len(v) >= 2 && v[0] == '/' && w.r.plainSecond[v[1]] {
				// The common case, "/products/12": decided by two bytes
				// that decoding leaves alone.
				w.insertPrefix(buf, s+int(a.start))
				continue
			}
		case kindSrcset:
			if v := buf[s+int(a.start) : s+int(a.end)]; needsDecoding(v) == len(v) {
				w.prefixSrcset(buf, s+int(a.start), v)
				continue
			}
		case kindHTTPEquiv:
			continue
		case kindContent:
			if !refresh {
				continue
			}
		}
		w.rewriteValue(buf, s, a)
	}
}

// prefixSrcset puts the tab prefix into the URLs of the srcset value v at
// buf[at], which decoding leaves as it is, so that the prefixes go right
// into the raw bytes, as rewriteValue would put them.
func (w *Writer) prefixSrcset(buf []byte, at int, v []byte) {
	for i := 0; ; {
		var url span
		var ok bool
		if url, i, ok = nextSrcsetURL(v, i); !ok {
			return
		}
		if p, ok := prefixPosition(w.r, v[url.start:url.end]); ok {
			w.insertPrefix(buf, at+url.start+p)
		}
	}
}

// attrValue returns the decoded form of the raw value, which is raw itself
// when plain, the index of its first reference, CR or NUL, is len(raw).
func (w *Writer) attrValue(raw []byte, plain int) []byte {
	if plain == len(raw) {
		return raw
	}
	w.buf.decoded = appendAttrValue(w.buf.decoded[:0], raw)
	return w.buf.decoded
}

// rewriteValue puts the tab prefix into the URLs of one attribute value.
func (w *Writer) rewriteValue(buf []byte, s int, a attrSpan) {
	raw := buf[s+int(a.start) : s+int(a.end)]
	plain := needsDecoding(raw)
	val := w.attrValue(raw, plain)
	points := w.prefixPoints(val, a.kind)
	if len(points) == 0 {
		return
	}
	// Before the first reference the raw and decoded values agree, so a
	// prefix that goes there goes into the raw bytes, keeping the author's
	// spelling of the rest.
	if points[len(points)-1] <= plain {
		for _, p := range points {
			w.insertPrefix(buf, s+int(a.start)+p)
		}
		return
	}
	v := append(w.buf.value[:0], '"')
	prev := 0
	for _, p := range points {
		v = appendEscapedAttr(v, val[prev:p])
		v = append(v, w.prefix...)
		prev = p
	}
	v = appendEscapedAttr(v, val[prev:])
	v = append(v, '"')
	w.buf.value = v
	from, to := s+int(a.start), s+int(a.end)
	if a.quote != 0 {
		from, to = from-1, to+1
	}
	w.emitUpTo(buf, from)
	w.emit(v)
	w.flushed = to
}

// prefixPoints returns the indexes in the decoded value val where a tab
// prefix goes, in increasing order.
func (w *Writer) prefixPoints(val []byte, kind attrKind) []int {
	points := w.buf.points[:0]
	switch kind {
	case kindURL:
		if at, ok := prefixPosition(w.r, val); ok {
			points = append(points, at)
		}
	case kindSrcset:
		w.buf.spans = appendSrcsetURLs(w.buf.spans[:0], val)
		for _, sp := range w.buf.spans {
			if at, ok := prefixPosition(w.r, val[sp.start:sp.end]); ok {
				points = append(points, sp.start+at)
			}
		}
	case kindContent:
		if start, end, ok := refreshURL(val); ok {
			if at, ok := prefixPosition(w.r, val[start:end]); ok {
				points = append(points, start+at)
			}
		}
	}
	w.buf.points = points
	return points
}
