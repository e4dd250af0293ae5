package redisstore

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/tabkit/tabkit/store"
)

// A session is one hash, <prefix>{<id>}. The braces make the ID the
// key's hash tag: Redis Cluster hashes only what is inside them, so
// whatever is kept per session lands in the session's slot. key,
// keyPattern and idOfKey are the only places that know this shape.

// key is session id's hash.
func (s *Store) key(id string) string { return s.prefix + "{" + id + "}" }

// keyPattern is the SCAN MATCH pattern of every session key of the store.
func (s *Store) keyPattern() string { return globEscape(s.prefix) + "{*" }

// idOfKey returns the ID of a session key that keyPattern matched, and
// false for another key that it matched too.
func (s *Store) idOfKey(key string) (string, bool) {
	rest, ok := strings.CutPrefix(key, s.prefix+"{")
	if !ok || len(rest) < 2 || !strings.HasSuffix(rest, "}") {
		return "", false
	}
	return rest[:len(rest)-1], true
}

// A session is one hash. Its values' field names are store.AppendKey
// bytes, which start with 's' or 't'; the meta fields start with '#' so the
// two can never collide. The fields the commit script reads or changes are
// kept apart, in forms Lua can handle; the rest of the meta is one
// store.AppendMeta blob that only Go reads.
const (
	// fieldMeta holds Created, NextTab and the tab table (Created,
	// LastSeen, Label of each tab) as store.AppendMeta bytes. Its other
	// fields are left zero: the fields below are authoritative.
	fieldMeta = "#m"
	// fieldVersion is Meta.Version in decimal.
	fieldVersion = "#v"
	// fieldBytes is Meta.Bytes in decimal.
	fieldBytes = "#b"
	// fieldTabBytes lists the open tabs with their byte counts,
	// "n=bytes;n=bytes", ordered by tab. A tab is open when it is listed
	// here, which is what the script checks before writing into it.
	fieldTabBytes = "#t"
	// fieldLastSeen is Meta.LastSeen in Unix nanoseconds.
	fieldLastSeen = "#s"
	// fieldIdle and fieldAbs are the deadlines as deadline strings;
	// absent means no deadline.
	fieldIdle = "#i"
	fieldAbs  = "#a"
	// fieldTabZero is when the script gave tab 0 its table entry (a
	// deadline string), because the script cannot edit the blob. It is
	// used while the blob has no entry for tab 0.
	fieldTabZero = "#z"
)

// metaFieldNames are the fields List reads, in the order metaFields.fromSlice expects.
var metaFieldNames = []string{fieldMeta, fieldVersion, fieldBytes, fieldTabBytes, fieldLastSeen, fieldIdle, fieldAbs, fieldTabZero}

// metaFields is a session's meta as stored, before decoding. Empty means
// absent.
type metaFields struct {
	blob, version, bytes, tabBytes, lastSeen, idle, abs, tabZero string
}

func (f *metaFields) fromMap(fields map[string]string) {
	*f = metaFields{
		blob:     fields[fieldMeta],
		version:  fields[fieldVersion],
		bytes:    fields[fieldBytes],
		tabBytes: fields[fieldTabBytes],
		lastSeen: fields[fieldLastSeen],
		idle:     fields[fieldIdle],
		abs:      fields[fieldAbs],
		tabZero:  fields[fieldTabZero],
	}
}

// fromSlice reads an HMGET reply for metaFieldNames.
func (f *metaFields) fromSlice(vals []any) {
	s := make([]string, len(metaFieldNames))
	for i, v := range vals {
		s[i], _ = v.(string)
	}
	*f = metaFields{
		blob: s[0], version: s[1], bytes: s[2], tabBytes: s[3],
		lastSeen: s[4], idle: s[5], abs: s[6], tabZero: s[7],
	}
}

// meta assembles store.Meta from the stored fields.
func (f *metaFields) meta() (store.Meta, error) {
	if f.blob == "" || f.version == "" {
		return store.Meta{}, fmt.Errorf("%w: session hash without meta", store.ErrCorrupt)
	}
	base, err := store.ParseMeta([]byte(f.blob))
	if err != nil {
		return store.Meta{}, err
	}
	m := store.Meta{Created: base.Created, NextTab: base.NextTab}
	var errs []error
	parse := func(what, s string, fn func(string) error) {
		if s == "" {
			return
		}
		if err := fn(s); err != nil {
			errs = append(errs, fmt.Errorf("%s %q", what, s))
		}
	}
	parse("version", f.version, func(s string) (err error) { m.Version, err = strconv.ParseUint(s, 10, 64); return })
	parse("bytes", f.bytes, func(s string) (err error) { m.Bytes, err = strconv.ParseInt(s, 10, 64); return })
	parse("last seen", f.lastSeen, func(s string) (err error) { m.LastSeen, err = parseTime(s); return })
	parse("idle deadline", f.idle, func(s string) (err error) { m.IdleDeadline, err = parseTime(s); return })
	parse("absolute deadline", f.abs, func(s string) (err error) { m.AbsDeadline, err = parseTime(s); return })
	tabBytes, err := parseTabBytes(f.tabBytes)
	if err != nil {
		errs = append(errs, err)
	}
	if len(errs) > 0 {
		return store.Meta{}, fmt.Errorf("%w: %v", store.ErrCorrupt, errs[0])
	}
	for n, b := range tabBytes {
		info, ok := base.Tabs[n]
		if !ok {
			if n != 0 || f.tabZero == "" {
				return store.Meta{}, fmt.Errorf("%w: tab %d has no entry", store.ErrCorrupt, n)
			}
			at, err := parseTime(f.tabZero)
			if err != nil {
				return store.Meta{}, fmt.Errorf("%w: tab 0 time %q", store.ErrCorrupt, f.tabZero)
			}
			info = store.TabInfo{Created: at, LastSeen: at}
		}
		info.Bytes = b
		if m.Tabs == nil {
			m.Tabs = make(map[uint32]store.TabInfo, len(tabBytes))
		}
		m.Tabs[n] = info
	}
	return m, nil
}

// appendMetaFields appends the field/value pairs that store m, and
// returns the meta fields to delete because m leaves them empty.
func appendMetaFields(pairs []any, m *store.Meta) ([]any, []string) {
	base := store.Meta{Created: m.Created, NextTab: m.NextTab}
	if len(m.Tabs) > 0 {
		base.Tabs = make(map[uint32]store.TabInfo, len(m.Tabs))
		for n, info := range m.Tabs {
			info.Bytes = 0
			base.Tabs[n] = info
		}
	}
	pairs = append(pairs,
		fieldMeta, store.AppendMeta(nil, &base),
		fieldVersion, strconv.FormatUint(m.Version, 10),
		fieldBytes, strconv.FormatInt(m.Bytes, 10),
		fieldTabBytes, formatTabBytes(m.Tabs),
	)
	// The blob now holds tab 0's entry, if any.
	remove := []string{fieldTabZero}
	if m.LastSeen.IsZero() {
		remove = append(remove, fieldLastSeen)
	} else {
		pairs = append(pairs, fieldLastSeen, formatTime(m.LastSeen))
	}
	if m.IdleDeadline.IsZero() {
		remove = append(remove, fieldIdle)
	} else {
		pairs = append(pairs, fieldIdle, formatDeadline(m.IdleDeadline))
	}
	if m.AbsDeadline.IsZero() {
		remove = append(remove, fieldAbs)
	} else {
		pairs = append(pairs, fieldAbs, formatDeadline(m.AbsDeadline))
	}
	return pairs, remove
}

func formatTabBytes(tabs map[uint32]store.TabInfo) string {
	var b strings.Builder
	for _, n := range slices.Sorted(maps.Keys(tabs)) {
		if b.Len() > 0 {
			b.WriteByte(';')
		}
		b.WriteString(strconv.FormatUint(uint64(n), 10))
		b.WriteByte('=')
		b.WriteString(strconv.FormatInt(tabs[n].Bytes, 10))
	}
	return b.String()
}

func parseTabBytes(s string) (map[uint32]int64, error) {
	if s == "" {
		return nil, nil
	}
	tabs := make(map[uint32]int64)
	for entry := range strings.SplitSeq(s, ";") {
		num, size, ok := strings.Cut(entry, "=")
		n, err1 := strconv.ParseUint(num, 10, 32)
		b, err2 := strconv.ParseInt(size, 10, 64)
		if !ok || err1 != nil || err2 != nil {
			return nil, fmt.Errorf("tab bytes %q", s)
		}
		tabs[uint32(n)] = b
	}
	return tabs, nil
}

// A deadline string is Unix nanoseconds as exactly 19 digits, so the
// script can compare two of them exactly although Lua's numbers are
// doubles (it compares the two halves). Every int64 above zero fits;
// times before 1970 become the first nanosecond after it, which changes
// no expiry decision for a clock that reads a time after 1970.
func formatDeadline(t time.Time) string {
	return fmt.Sprintf("%019d", max(t.UnixNano(), 1))
}

// formatTime writes a time that Lua only stores, never compares.
func formatTime(t time.Time) string { return strconv.FormatInt(t.UnixNano(), 10) }

// parseTime reads what formatDeadline or formatTime wrote, in UTC like
// store.ParseMeta.
func parseTime(s string) (time.Time, error) {
	ns, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return time.Time{}, err
	}
	return time.Unix(0, ns).UTC(), nil
}

// expireAtMillis is the PEXPIREAT time for a deadline: rounded up, so
// Redis never drops a session before its deadline has passed.
func expireAtMillis(t time.Time) int64 {
	ns := max(t.UnixNano(), 1)
	ms := ns / 1e6
	if ns%1e6 != 0 {
		ms++
	}
	return ms
}

// decodeSession splits an HGETALL reply into meta and values.
func decodeSession(fields map[string]string) (store.Record, error) {
	var mf metaFields
	mf.fromMap(fields)
	m, err := mf.meta()
	if err != nil {
		return store.Record{}, err
	}
	rec := store.Record{Meta: m, Values: make(map[store.Key][]byte, len(fields))}
	for f, v := range fields {
		if strings.HasPrefix(f, "#") {
			continue
		}
		k, err := store.ParseKey([]byte(f))
		if err != nil {
			return store.Record{}, err
		}
		rec.Values[k] = []byte(v)
	}
	return rec, nil
}
