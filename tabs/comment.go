package tabs

import (
	"encoding/binary"
	"math/bits"
)

// This file finds where a comment ends, following the tokenizer's rules,
// which accept "-->", "--!>" and, right after "<!--", a bare '>' or "->".

// commentState is where a comment's end is in sight: dashes counts the
// '-' just seen (up to 2), beginning holds until the first byte that is not
// '-', and bang marks "--!", after which the next byte is consumed whatever
// it is, as the tokenizer does.
type commentState struct {
	dashes    uint8
	beginning bool
	bang      bool
}

// scanComment finds the end of a comment: "-->", "--!>", or a '>' right
// after "<!--" or "<!---".
func (w *Writer) scanComment(buf []byte, i int) int {
	st := w.comment
	for ; i < len(buf); i++ {
		c := buf[i]
		if st.bang {
			st.bang = false
			if c == '>' {
				w.mode = modeData
				return i + 1
			}
			st.beginning = false
			st.dashes = 0
			if c == '-' {
				st.dashes = 1
			}
			continue
		}
		switch c {
		case '-':
			if st.dashes < 2 {
				st.dashes++
			}
			continue
		case '>':
			if st.dashes >= 2 || st.beginning {
				w.mode = modeData
				return i + 1
			}
		case '!':
			if st.dashes >= 2 {
				st.bang = true
				continue
			}
		default:
			if st.dashes == 0 && !st.beginning {
				// Nothing pending: jump to the next byte that matters.
				k := indexDashOrGreater(buf[i+1:])
				if k < 0 {
					i = len(buf)
					continue
				}
				i += k
			}
		}
		st.dashes = 0
		st.beginning = false
	}
	w.comment = st
	return len(buf)
}

// indexDashOrGreater returns the index of the first '-' or '>' in b, or
// -1, looking at eight bytes at a time.
func indexDashOrGreater(b []byte) int {
	i := 0
	for ; i+8 <= len(b); i += 8 {
		x := binary.LittleEndian.Uint64(b[i : i+8])
		if found := zeroBytes(x^ones*'-') | zeroBytes(x^ones*'>'); found != 0 {
			return i + bits.TrailingZeros64(found)>>3
		}
	}
	for ; i < len(b); i++ {
		if b[i] == '-' || b[i] == '>' {
			return i
		}
	}
	return -1
}
