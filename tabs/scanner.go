package tabs

import "bytes"

// This file is the tokenizer half of the Writer: a single pass over the
// bytes that finds tags the way golang.org/x/net/html's Tokenizer does
// (which follows the HTML standard's tokenization states), without building
// tokens. Text, comments and the content of raw-text elements are skipped
// a word or more at a time and copied untouched; only tags are looked at
// closely, and only tags with candidate attributes cost more than a scan.
//
// Every state can stop at the end of the buffer. Most resume at any byte;
// a few need a short lookahead after a '<' (up to "</noframes>"), and those
// stop at the '<' and leave it to the Writer to carry the bytes over.

// scanMode is the tokenizer state between constructs.
type scanMode uint8

const (
	modeData        scanMode = iota // text
	modeTag                         // inside a start or end tag; see tagState
	modeComment                     // inside "<!--", up to its end
	modeBogus                       // a bogus comment or doctype, up to '>'
	modeRawText                     // RAWTEXT or RCDATA up to "</" + rawName
	modeScript                      // script data; see scriptState
	modePassthrough                 // plaintext, or given up: copy everything
)

// scan rewrites buf from the Writer's current state and emits the result.
// It returns how much of buf it consumed; the rest is the start of a
// construct that needs more bytes to be decided.
func (w *Writer) scan(buf []byte) int {
	w.flushed = 0
	if w.mode == modeTag {
		w.tag.start = 0
	}
	i := 0
	for i < len(buf) {
		stop := false
		switch w.mode {
		case modeData:
			i, stop = w.scanData(buf, i)
		case modeTag:
			i, stop = w.scanTag(buf)
		case modeComment:
			i = w.scanComment(buf, i)
		case modeBogus:
			i = scanBogus(w, buf, i)
		case modeRawText:
			i, stop = w.scanRawText(buf, i)
		case modeScript:
			i, stop = w.scanScript(buf, i)
		case modePassthrough:
			i = len(buf)
		}
		if stop {
			break
		}
	}
	w.emitUpTo(buf, i)
	return i
}

// scanData skips text and the tags in it, rewriting those with candidate
// attributes, up to a construct that leaves the data state or needs more
// bytes.
func (w *Writer) scanData(buf []byte, i int) (next int, stop bool) {
	for {
		j, attrAt, candidate := plainRun(buf, i, w.r.maxTagBytes, &w.r.attrs)
		if attrAt > 0 {
			next, ok := w.resumeTag(buf, j, attrAt, candidate)
			if !ok {
				w.beginTag(j, false)
				return j, false
			}
			if w.mode != modeData {
				return next, false
			}
			i = next
			continue
		}
		if j >= len(buf) {
			return len(buf), false
		}
		if j+2 >= len(buf) {
			return w.dataLessThan(buf, j)
		}
		c := buf[j+1]
		end := c == '/'
		if end {
			c = buf[j+2]
		}
		if !isASCIILetter(c) {
			next, stop := w.dataLessThan(buf, j)
			if stop || w.mode != modeData {
				return next, stop
			}
			i = next
			continue
		}
		// plainRun has skipped the end tags of the form "</name>" and
		// start tags with nothing to rewrite; this tag has more to it.
		next, ok := w.fastTag(buf, j, end)
		if !ok {
			w.beginTag(j, end)
			return j, false
		}
		if w.mode != modeData {
			return next, false
		}
		i = next
	}
}

// dataLessThan decides what the '<' at buf[j] starts, for the cases
// scanData does not handle itself.
func (w *Writer) dataLessThan(buf []byte, j int) (next int, stop bool) {
	if j+1 == len(buf) {
		return j, true
	}
	switch c := buf[j+1]; {
	case isASCIILetter(c):
		w.beginTag(j, false)
		return j, false
	case c == '/':
		if j+2 == len(buf) {
			return j, true
		}
		switch c := buf[j+2]; {
		case c == '>':
			// "</>" is nothing at all; skip it.
			return j + 3, false
		case isASCIILetter(c):
			w.beginTag(j, true)
			return j, false
		}
		w.mode = modeBogus
		return j + 2, false
	case c == '!':
		if j+3 >= len(buf) {
			return j, true
		}
		if buf[j+2] == '-' && buf[j+3] == '-' {
			w.mode = modeComment
			w.comment = commentState{beginning: true}
			return j + 4, false
		}
		// A doctype, "<![CDATA[" (HTML content has none) or a bogus
		// comment: all end at the first '>'.
		w.mode = modeBogus
		return j + 2, false
	case c == '?':
		w.mode = modeBogus
		return j + 1, false
	}
	return j + 1, false
}

func isASCIILetter(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z'
}

func scanBogus(w *Writer, buf []byte, i int) int {
	k := bytes.IndexByte(buf[i:], '>')
	if k < 0 {
		return len(buf)
	}
	w.mode = modeData
	return i + k + 1
}
