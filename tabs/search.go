package tabs

import (
	"bytes"
	"encoding/binary"
	"math/bits"
)

// The scanner mostly looks for a byte that is only a few bytes away: the
// '<' after the white space between two tags, the quote that closes a
// short attribute value. bytes.IndexByte is fast over long spans but its
// call costs more than such a short search, so these functions look at
// eight bytes at a time in a register first.

const (
	ones  = 0x0101010101010101
	highs = 0x8080808080808080
)

// zeroBytes returns a word with the high bit set in the first zero byte
// of x, counting from the lowest, and possibly in some later bytes; it is
// zero if x has no zero byte. Borrows only run towards higher bytes, so
// the lowest bit set is exact.
func zeroBytes(x uint64) uint64 {
	return (x - ones) &^ x & highs
}

// skipTo returns the index of the first byte at or after i in b whose
// byteClass has a bit of class, or len(b). The unsigned comparison lets
// the compiler drop the bounds check of b[i].
func skipTo(b []byte, i int, class uint8) int {
	for uint(i) < uint(len(b)) && byteClass[b[i]]&class == 0 {
		i++
	}
	return i
}

// indexByteFrom returns the index of the first c in b at or after i, or
// -1. Most attribute values, and most runs of text between tags, are
// short, so it looks at a few words itself before calling bytes.IndexByte.
func indexByteFrom(b []byte, i int, c byte) int {
	pattern := ones * uint64(c)
	for n := 0; i+8 <= len(b); i += 8 {
		if found := zeroBytes(binary.LittleEndian.Uint64(b[i:i+8]) ^ pattern); found != 0 {
			return i + bits.TrailingZeros64(found)>>3
		}
		if n++; n == 4 {
			if k := bytes.IndexByte(b[i+8:], c); k >= 0 {
				return i + 8 + k
			}
			return -1
		}
	}
	for ; i < len(b); i++ {
		if b[i] == c {
			return i
		}
	}
	return -1
}

// needsDecoding returns the index of the first byte of the raw attribute
// value that makes its decoded value differ from raw: '&', CR or NUL. It
// returns len(raw) if there is none.
func needsDecoding(raw []byte) int {
	const amps, crs = ones * '&', ones * '\r'
	i := 0
	for ; i+8 <= len(raw); i += 8 {
		x := binary.LittleEndian.Uint64(raw[i : i+8])
		// A false hit in one term lies above a true hit in the same term,
		// so the lowest bit of the union is still exact.
		if found := zeroBytes(x^amps) | zeroBytes(x^crs) | zeroBytes(x); found != 0 {
			return i + bits.TrailingZeros64(found)/8
		}
	}
	for ; i < len(raw); i++ {
		if c := raw[i]; c == '&' || c == '\r' || c == 0 {
			return i
		}
	}
	return len(raw)
}
