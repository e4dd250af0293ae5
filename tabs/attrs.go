package tabs

import (
	"fmt"
	"strings"
)

// attrKind says how an attribute's value holds URLs.
type attrKind uint8

const (
	kindURL       attrKind = iota + 1 // the whole value is one URL
	kindSrcset                        // comma-separated image candidates
	kindContent                       // <meta content>, a URL only for http-equiv=refresh
	kindHTTPEquiv                     // <meta http-equiv>, read to decide about content
)

// maxAttrName is the longest attribute name that Attrs may list, so that
// attrTable.first can index names by length in a 64-bit mask.
const maxAttrName = 63

// maxAttrs bounds Config.Attrs so that an attribute's index fits in the
// int16 of an attrSpan.
const maxAttrs = 1 << 12

// builtinAttrs are the attributes rewritten in every document.
var builtinAttrs = []struct {
	name string
	kind attrKind
}{
	{"href", kindURL},
	{"src", kindURL},
	{"action", kindURL},
	{"formaction", kindURL},
	{"poster", kindURL},
	{"srcset", kindSrcset},
	{"content", kindContent},
	{"http-equiv", kindHTTPEquiv},
}

// attrTable finds the attributes of interest by name. Names are grouped by
// length so that the common attributes (class, id, type, ...) are rejected
// after one or two comparisons.
type attrTable struct {
	names []string   // lower-case names; the index identifies the attribute
	words []uint64   // words[i] packs names[i] little-endian if it fits
	kinds []attrKind // kinds[i] belongs to names[i]
	byLen [][]uint16 // byLen[n] lists the indexes of the names of length n
	// first[c] has bit n set when a name of length n starts with c, and
	// last[c] when one ends with c, in either case: most attribute names
	// are rejected by these two lookups. firstOutsideMeta is first without
	// content and http-equiv, which matter only in <meta> and would let
	// every class attribute through.
	first, last      [256]uint64
	firstOutsideMeta [256]uint64
}

func newAttrTable(extra []string) (attrTable, error) {
	var t attrTable
	for _, a := range builtinAttrs {
		t.add(a.name, a.kind)
	}
	if len(extra) > maxAttrs {
		return attrTable{}, fmt.Errorf("tabs: %d attributes in Attrs, more than %d", len(extra), maxAttrs)
	}
	for _, name := range extra {
		if err := checkAttrName(name); err != nil {
			return attrTable{}, err
		}
		lower := asciiLower(name)
		twin, hasTwin := htmxTwin(lower)
		if hasTwin && len(twin) > maxAttrName {
			return attrTable{}, fmt.Errorf("tabs: attribute name %q is too long for its spelling %q to fit in %d bytes", name, twin, maxAttrName)
		}
		if err := t.addURLAttr(lower); err != nil {
			return attrTable{}, err
		}
		if hasTwin {
			if err := t.addURLAttr(twin); err != nil {
				return attrTable{}, err
			}
		}
	}
	return t, nil
}

// htmxTwin returns the other spelling of an htmx attribute, which htmx
// reads just the same: "data-hx-get" for "hx-get" and the other way round.
func htmxTwin(lower string) (string, bool) {
	switch {
	case strings.HasPrefix(lower, "hx-"):
		return "data-" + lower, true
	case strings.HasPrefix(lower, "data-hx-"):
		return lower[len("data-"):], true
	}
	return "", false
}

// addURLAttr adds the lower-case name as an attribute whose whole value is
// a URL, unless it is there already.
func (t *attrTable) addURLAttr(lower string) error {
	switch i := t.lookup([]byte(lower)); {
	case i < 0:
		t.add(lower, kindURL)
	case t.kinds[i] != kindURL:
		return fmt.Errorf("tabs: attribute %q has its own rule and cannot be listed in Attrs", lower)
	}
	return nil
}

// checkAttrName refuses names the HTML tokenizer could never produce, which
// would silently match nothing.
func checkAttrName(name string) error {
	if name == "" {
		return fmt.Errorf("tabs: empty attribute name in Attrs")
	}
	if len(name) > maxAttrName {
		return fmt.Errorf("tabs: attribute name %q is longer than %d bytes", name, maxAttrName)
	}
	for i := 0; i < len(name); i++ {
		switch c := name[i]; c {
		case ' ', '\t', '\n', '\r', '\f', '/', '>', 0:
			return fmt.Errorf("tabs: attribute name %q contains %q", name, c)
		case '=':
			if i > 0 {
				return fmt.Errorf("tabs: attribute name %q contains '='", name)
			}
		}
	}
	return nil
}

func (t *attrTable) add(name string, kind attrKind) {
	for len(t.byLen) <= len(name) {
		t.byLen = append(t.byLen, nil)
	}
	t.byLen[len(name)] = append(t.byLen[len(name)], uint16(len(t.names)))
	setBit := func(table *[256]uint64, c byte) {
		table[c] |= 1 << len(name)
		if 'a' <= c && c <= 'z' {
			table[c-('a'-'A')] |= 1 << len(name)
		}
	}
	setBit(&t.first, name[0])
	if kind != kindContent && kind != kindHTTPEquiv {
		setBit(&t.firstOutsideMeta, name[0])
	}
	setBit(&t.last, name[len(name)-1])
	var word uint64
	for i := min(len(name), 8) - 1; i >= 0; i-- {
		word = word<<8 | uint64(name[i])
	}
	t.words = append(t.words, word)
	t.names = append(t.names, name)
	t.kinds = append(t.kinds, kind)
}

// mayHave reports whether key could be the name of an attribute in t;
// when it is false, lookup would return -1.
func (t *attrTable) mayHave(key []byte) bool {
	return len(key) > 0 && t.first[key[0]]&t.last[key[len(key)-1]]&(1<<uint(len(key))) != 0
}

// lookup returns the index of the attribute named key, compared the way the
// HTML tokenizer does (ASCII letters folded to lower case), or -1.
func (t *attrTable) lookup(key []byte) int {
	if len(key) >= len(t.byLen) {
		return -1
	}
	for _, i := range t.byLen[len(key)] {
		if equalFoldLower(key, t.names[i]) {
			return int(i)
		}
	}
	return -1
}

// lookupWord is lookup for a key of n ≤ 8 bytes held in the low bytes of
// the little-endian word x, compared a word at a time.
func (t *attrTable) lookupWord(x uint64, n int) int {
	if n >= len(t.byLen) {
		return -1
	}
	x = lowerASCIIWord(x & (1<<(8*uint(n)) - 1))
	for _, i := range t.byLen[n] {
		if t.words[i] == x {
			return int(i)
		}
	}
	return -1
}

// lowerASCIIWord lowers the ASCII upper-case letters among the bytes of x.
func lowerASCIIWord(x uint64) uint64 {
	const sevenBits = 0x7f7f7f7f7f7f7f7f
	low := x & sevenBits
	atLeastA := low + ones*(0x80-'A')
	aboveZ := low + ones*(0x80-'Z'-1)
	upper := atLeastA &^ aboveZ &^ x & highs
	return x | upper>>2
}

// equalFoldLower reports whether b equals the lower-case ASCII string s
// once b's ASCII upper-case letters are lowered.
func equalFoldLower[T string | []byte](b T, s string) bool {
	if len(b) != len(s) {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := b[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != s[i] {
			return false
		}
	}
	return true
}

// asciiLower lowers ASCII letters only, as the HTML tokenizer does for
// attribute names.
func asciiLower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}
