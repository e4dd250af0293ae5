package store

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"
	"slices"
	"time"
)

// The binary forms below are what backends write to disk or to Redis. They
// start with a format byte so a later version can read older records.
const (
	metaFormat1 = 1
	// metaFormat2 adds the principal and the value deadlines at the end.
	metaFormat2 = 2
)

// Key kinds, the first byte of an encoded Key.
const (
	keySession = 's'
	keyTab     = 't'
)

// AppendMeta appends the binary form of m to dst.
func AppendMeta(dst []byte, m *Meta) []byte {
	dst = append(dst, metaFormat2)
	dst = appendTime(dst, m.Created)
	dst = appendTime(dst, m.LastSeen)
	dst = appendTime(dst, m.IdleDeadline)
	dst = appendTime(dst, m.AbsDeadline)
	dst = binary.AppendUvarint(dst, uint64(m.NextTab))
	dst = binary.AppendVarint(dst, m.Bytes)
	dst = binary.AppendUvarint(dst, m.Version)
	dst = binary.AppendUvarint(dst, uint64(len(m.Tabs)))
	tabs := make([]uint32, 0, len(m.Tabs))
	for n := range m.Tabs {
		tabs = append(tabs, n)
	}
	slices.Sort(tabs)
	for _, n := range tabs {
		info := m.Tabs[n]
		dst = binary.AppendUvarint(dst, uint64(n))
		dst = appendTime(dst, info.Created)
		dst = appendTime(dst, info.LastSeen)
		dst = binary.AppendVarint(dst, info.Bytes)
		dst = binary.AppendUvarint(dst, uint64(len(info.Label)))
		dst = append(dst, info.Label...)
	}
	dst = binary.AppendUvarint(dst, uint64(len(m.Principal)))
	dst = append(dst, m.Principal...)
	dst = binary.AppendUvarint(dst, uint64(len(m.Expiring)))
	keys := make([]Key, 0, len(m.Expiring))
	for k := range m.Expiring {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, compareKeys)
	for _, k := range keys {
		dst = binary.AppendUvarint(dst, uint64(keyLen(k)))
		dst = AppendKey(dst, k)
		dst = appendTime(dst, m.Expiring[k])
	}
	return dst
}

// compareKeys orders keys as their encodings sort.
func compareKeys(a, b Key) int {
	return bytes.Compare(AppendKey(nil, a), AppendKey(nil, b))
}

// keyLen is the length of k's encoding.
func keyLen(k Key) int {
	if k.InTab {
		return 5 + len(k.Name)
	}
	return 1 + len(k.Name)
}

// ParseMeta decodes what AppendMeta wrote. Any other input gives an error
// wrapping ErrCorrupt; ParseMeta never panics and never allocates more
// than its input justifies.
func ParseMeta(b []byte) (Meta, error) {
	d := decoder{buf: b}
	format := d.byte()
	if format != metaFormat1 && format != metaFormat2 {
		return Meta{}, fmt.Errorf("%w: meta format %d", ErrCorrupt, format)
	}
	var m Meta
	m.Created = d.time()
	m.LastSeen = d.time()
	m.IdleDeadline = d.time()
	m.AbsDeadline = d.time()
	m.NextTab = d.uint32()
	m.Bytes = d.varint()
	m.Version = d.uvarint()
	count := d.uvarint()
	// Each tab takes at least five bytes, which bounds the allocation by the
	// input's size.
	if d.err == nil && count > uint64(len(d.buf))/5 {
		d.fail("tab count %d", count)
	}
	if d.err == nil && count > 0 {
		m.Tabs = make(map[uint32]TabInfo, count)
	}
	for i := uint64(0); i < count && d.err == nil; i++ {
		n := d.uint32()
		var info TabInfo
		info.Created = d.time()
		info.LastSeen = d.time()
		info.Bytes = d.varint()
		info.Label = string(d.bytes(d.uvarint()))
		if _, dup := m.Tabs[n]; dup && d.err == nil {
			d.fail("tab %d twice", n)
		}
		m.Tabs[n] = info
	}
	if format >= metaFormat2 {
		d.metaFormat2(&m)
	}
	if d.err == nil && len(d.buf) != 0 {
		d.fail("%d trailing bytes", len(d.buf))
	}
	if d.err != nil {
		return Meta{}, d.err
	}
	return m, nil
}

// metaFormat2 reads the fields format 2 added.
func (d *decoder) metaFormat2(m *Meta) {
	m.Principal = string(d.bytes(d.uvarint()))
	count := d.uvarint()
	// Each deadline takes at least three bytes.
	if d.err == nil && count > uint64(len(d.buf))/3 {
		d.fail("deadline count %d", count)
	}
	for i := uint64(0); i < count && d.err == nil; i++ {
		raw := d.bytes(d.uvarint())
		at := d.time()
		if d.err != nil {
			return
		}
		k, err := ParseKey(raw)
		if err != nil {
			d.fail("deadline key: %v", err)
			return
		}
		if m.Expiring == nil {
			m.Expiring = make(map[Key]time.Time, count)
		}
		if _, dup := m.Expiring[k]; dup {
			d.fail("deadline of %q twice", k.Name)
			return
		}
		m.Expiring[k] = at
	}
}

// AppendKey appends the binary form of k to dst. Encoded keys of one
// session sort session-wide keys first, then tab by tab.
func AppendKey(dst []byte, k Key) []byte {
	if !k.InTab {
		dst = append(dst, keySession)
		return append(dst, k.Name...)
	}
	dst = append(dst, keyTab)
	dst = binary.BigEndian.AppendUint32(dst, k.Tab)
	return append(dst, k.Name...)
}

// AppendTabKeyPrefix appends the prefix that every encoded key of tab
// shares, for range scans.
func AppendTabKeyPrefix(dst []byte, tab uint32) []byte {
	dst = append(dst, keyTab)
	return binary.BigEndian.AppendUint32(dst, tab)
}

// ParseKey decodes what AppendKey wrote.
func ParseKey(b []byte) (Key, error) {
	if len(b) == 0 {
		return Key{}, fmt.Errorf("%w: empty key", ErrCorrupt)
	}
	switch b[0] {
	case keySession:
		return Key{Name: string(b[1:])}, nil
	case keyTab:
		if len(b) < 5 {
			return Key{}, fmt.Errorf("%w: short tab key", ErrCorrupt)
		}
		return Key{InTab: true, Tab: binary.BigEndian.Uint32(b[1:5]), Name: string(b[5:])}, nil
	default:
		return Key{}, fmt.Errorf("%w: key kind %q", ErrCorrupt, b[0])
	}
}

// appendTime writes t as Unix nanoseconds, with 0 for the zero time.
func appendTime(dst []byte, t time.Time) []byte {
	if t.IsZero() {
		return binary.AppendVarint(dst, 0)
	}
	return binary.AppendVarint(dst, t.UnixNano())
}

// decoder reads the binary forms; the first failure sticks, so callers
// check err once at the end.
type decoder struct {
	buf []byte
	err error
}

func (d *decoder) fail(format string, args ...any) {
	if d.err == nil {
		d.err = fmt.Errorf("%w: "+format, append([]any{ErrCorrupt}, args...)...)
	}
	d.buf = nil
}

func (d *decoder) byte() byte {
	if len(d.buf) == 0 {
		d.fail("truncated")
		return 0
	}
	b := d.buf[0]
	d.buf = d.buf[1:]
	return b
}

func (d *decoder) uvarint() uint64 {
	v, n := binary.Uvarint(d.buf)
	if n <= 0 {
		d.fail("bad uvarint")
		return 0
	}
	d.buf = d.buf[n:]
	return v
}

func (d *decoder) varint() int64 {
	v, n := binary.Varint(d.buf)
	if n <= 0 {
		d.fail("bad varint")
		return 0
	}
	d.buf = d.buf[n:]
	return v
}

func (d *decoder) uint32() uint32 {
	v := d.uvarint()
	if v > math.MaxUint32 {
		d.fail("tab number %d", v)
		return 0
	}
	return uint32(v)
}

func (d *decoder) time() time.Time {
	ns := d.varint()
	if ns == 0 {
		return time.Time{}
	}
	return time.Unix(0, ns).UTC()
}

func (d *decoder) bytes(n uint64) []byte {
	if n > uint64(len(d.buf)) {
		d.fail("length %d past end", n)
		return nil
	}
	b := d.buf[:n]
	d.buf = d.buf[n:]
	return b
}
