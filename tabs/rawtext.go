package tabs

import "bytes"

// This file skips the content of the elements whose content is not markup
// for the tokenizer: RAWTEXT and RCDATA elements (style, textarea, title,
// ...) end at their end tag, and script data ends at "</script>" except
// inside the "<!--<script>" nesting that the standard keeps from old
// browsers.

// matchResult is the outcome of looking ahead: yes, no, or not enough
// bytes to tell.
type matchResult uint8

const (
	matchNo matchResult = iota
	matchYes
	matchNeedMore
)

// endTagAt reports whether buf[j:] starts with "</" + name and a byte that
// ends a tag name, comparing letters case-insensitively (name is lower
// case): the end of a raw-text element.
func endTagAt(buf []byte, j int, name string) matchResult {
	k := j + 1
	if k == len(buf) {
		return matchNeedMore
	}
	if buf[k] != '/' {
		return matchNo
	}
	return wordAt(buf, k+1, name)
}

// wordAt reports whether buf[k:] starts with name, case-insensitively, and
// a byte that ends a tag name.
func wordAt(buf []byte, k int, name string) matchResult {
	for n := 0; n < len(name); n++ {
		if k == len(buf) {
			return matchNeedMore
		}
		if c := buf[k]; c != name[n] && c != name[n]-('a'-'A') {
			return matchNo
		}
		k++
	}
	if k == len(buf) {
		return matchNeedMore
	}
	switch buf[k] {
	case ' ', '\n', '\r', '\t', '\f', '/', '>':
		return matchYes
	}
	return matchNo
}

// scanRawText skips RAWTEXT and RCDATA (style, textarea, title, ...) up to
// the end tag of the element that opened it.
func (w *Writer) scanRawText(buf []byte, i int) (next int, stop bool) {
	for {
		k := bytes.IndexByte(buf[i:], '<')
		if k < 0 {
			return len(buf), false
		}
		j := i + k
		switch endTagAt(buf, j, w.rawName) {
		case matchYes:
			w.mode = modeData
			return j, false
		case matchNeedMore:
			return j, true
		}
		i = j + 1
	}
}

// scriptState is the tokenizer's script data state, with the "escaped"
// states entered by "<!--" in a script, where "<script>" and "</script>"
// nest. The "less-than sign" states are handled with lookahead.
type scriptState uint8

const (
	scriptData scriptState = iota
	scriptEscaped
	scriptEscapedDash
	scriptEscapedDashDash
	scriptDoubleEscaped
	scriptDoubleEscapedDash
	scriptDoubleEscapedDashDash
)

// scanScript skips script data up to its "</script>".
func (w *Writer) scanScript(buf []byte, i int) (next int, stop bool) {
	st := w.script
	defer func() { w.script = st }()
	for i < len(buf) {
		if st == scriptData {
			k := bytes.IndexByte(buf[i:], '<')
			if k < 0 {
				return len(buf), false
			}
			j := i + k
			if j+1 == len(buf) {
				return j, true
			}
			switch buf[j+1] {
			case '/':
				switch endTagAt(buf, j, "script") {
				case matchYes:
					w.mode = modeData
					return j, false
				case matchNeedMore:
					return j, true
				}
				i = j + 2
			case '!':
				switch {
				case j+2 == len(buf) || (buf[j+2] == '-' && j+3 == len(buf)):
					return j, true
				case buf[j+2] == '-' && buf[j+3] == '-':
					st = scriptEscapedDashDash
					i = j + 4
				default:
					i = j + 2
				}
			default:
				i = j + 1
			}
			continue
		}
		c := buf[i]
		if c == '<' {
			var done bool
			if st >= scriptDoubleEscaped {
				i, done, stop = w.doubleEscapedLessThan(buf, i, &st)
			} else {
				i, done, stop = w.escapedLessThan(buf, i, &st)
			}
			if done || stop {
				return i, stop
			}
			continue
		}
		st = nextScriptState(st, c)
		i++
	}
	return i, false
}

// nextScriptState is the transition of the escaped states on a byte other
// than '<'.
func nextScriptState(st scriptState, c byte) scriptState {
	switch c {
	case '-':
		switch st {
		case scriptEscaped, scriptEscapedDash:
			return st + 1
		case scriptDoubleEscaped, scriptDoubleEscapedDash:
			return st + 1
		}
		return st
	case '>':
		if st == scriptEscapedDashDash || st == scriptDoubleEscapedDashDash {
			return scriptData
		}
	}
	if st >= scriptDoubleEscaped {
		return scriptDoubleEscaped
	}
	return scriptEscaped
}

// escapedLessThan handles a '<' at buf[j] in the escaped states: the end
// of the script, the start of a nested "<script", or nothing. done reports
// that the script ended at j.
func (w *Writer) escapedLessThan(buf []byte, j int, st *scriptState) (next int, done, stop bool) {
	if j+1 == len(buf) {
		return j, false, true
	}
	switch c := buf[j+1]; {
	case c == '/':
		switch endTagAt(buf, j, "script") {
		case matchYes:
			w.mode = modeData
			*st = scriptData
			return j, true, false
		case matchNeedMore:
			return j, false, true
		}
		*st = scriptEscaped
		return j + 2, false, false
	case isASCIILetter(c):
		switch wordAt(buf, j+1, "script") {
		case matchYes:
			*st = scriptDoubleEscaped
			return j + len("<script") + 1, false, false
		case matchNeedMore:
			return j, false, true
		}
		*st = scriptEscaped
		return j + 1, false, false
	}
	// The tokenizer goes back to plain script data here.
	*st = scriptData
	return j + 1, false, false
}

// doubleEscapedLessThan handles a '<' at buf[j] in the double-escaped
// states, where "</script>" only closes the nested "<script".
func (w *Writer) doubleEscapedLessThan(buf []byte, j int, st *scriptState) (next int, done, stop bool) {
	if j+1 == len(buf) {
		return j, false, true
	}
	if buf[j+1] != '/' {
		*st = scriptDoubleEscaped
		return j + 1, false, false
	}
	switch endTagAt(buf, j, "script") {
	case matchYes:
		*st = scriptEscaped
		return j + len("</script") + 1, false, false
	case matchNeedMore:
		return j, false, true
	}
	*st = scriptDoubleEscaped
	return j + 2, false, false
}
