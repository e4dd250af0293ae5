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

// A session is one hash. Its key carries the session's family (see
// store.Family) as the key's hash tag: Redis Cluster hashes only what is
// inside the braces, so a session and the ID it is regenerated to (same
// family) share a slot, and Move stays inside one master:
//
//	<prefix>{<family>}.<rest>   for an ID "<family>.<rest>" (store.HashToken's shape)
//	<prefix>{<id>}              for an ID without a '.' (sessions stored under
//	                            a raw token before IDs were hashed)
//
// A principal's set of sessions is <prefix>principal:{<principal>}, in the
// principal's own slot. key, keyPattern, idOfKey, keyTag and principalKey
// are the only places that know these shapes.

// key is session id's hash.
func (s *Store) key(id string) string {
	if family, rest, ok := strings.Cut(id, "."); ok {
		return s.prefix + "{" + family + "}." + rest
	}
	return s.prefix + "{" + id + "}"
}

// keyPattern is the SCAN MATCH pattern of every session key of the store.
// No other key of the store starts with <prefix>{.
func (s *Store) keyPattern() string { return globEscape(s.prefix) + "{*" }

// idOfKey returns the ID of a session key that keyPattern matched, and
// false for another key that it matched too. A key with a '.' has the
// first shape (a family has no '.', so the first '.' follows its '}');
// one without has the second.
func (s *Store) idOfKey(key string) (string, bool) {
	rest, ok := strings.CutPrefix(key, s.prefix+"{")
	if !ok {
		return "", false
	}
	if i := strings.IndexByte(rest, '.'); i >= 0 {
		if i < 1 || rest[i-1] != '}' {
			return "", false
		}
		return rest[:i-1] + rest[i:], true
	}
	if len(rest) < 2 || !strings.HasSuffix(rest, "}") {
		return "", false
	}
	return rest[:len(rest)-1], true
}

// keyTag returns what Redis Cluster hashes of key: the part between the
// first '{' and the next '}' when that is not empty, or all of key.
func keyTag(key string) string {
	if open := strings.IndexByte(key, '{'); open >= 0 {
		if end := strings.IndexByte(key[open+1:], '}'); end > 0 {
			return key[open+1 : open+1+end]
		}
	}
	return key
}

// principalKey is the set of the sessions of principal p.
func (s *Store) principalKey(p string) string { return s.prefix + "principal:{" + p + "}" }

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
	// fieldPrincipal is Meta.Principal; absent means none.
	fieldPrincipal = "#p"
	// fieldExpiring is Meta.Expiring, the deadlines of values with a time
	// to live, in a form the script can read and rewrite (see
	// formatExpiring); absent means none.
	fieldExpiring = "#e"
	// fieldMoved is the only field of the hash Move leaves under the ID
	// it moved a session away from: until when (a deadline string) that
	// ID answers store.ErrMoved. Such a hash has no #v, so every reader
	// of sessions takes it for no session.
	fieldMoved = "#r"
)

// metaFieldNames are the fields List reads, in the order metaFields.fromSlice expects.
var metaFieldNames = []string{fieldMeta, fieldVersion, fieldBytes, fieldTabBytes, fieldLastSeen, fieldIdle, fieldAbs, fieldTabZero, fieldPrincipal, fieldExpiring}

// metaFields is a session's meta as stored, before decoding. Empty means
// absent.
type metaFields struct {
	blob, version, bytes, tabBytes, lastSeen, idle, abs, tabZero, principal, expiring string
}

func (f *metaFields) fromMap(fields map[string]string) {
	*f = metaFields{
		blob:      fields[fieldMeta],
		version:   fields[fieldVersion],
		bytes:     fields[fieldBytes],
		tabBytes:  fields[fieldTabBytes],
		lastSeen:  fields[fieldLastSeen],
		idle:      fields[fieldIdle],
		abs:       fields[fieldAbs],
		tabZero:   fields[fieldTabZero],
		principal: fields[fieldPrincipal],
		expiring:  fields[fieldExpiring],
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
		principal: s[8], expiring: s[9],
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
	m := store.Meta{Created: base.Created, NextTab: base.NextTab, Principal: f.principal}
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
	parse("value deadlines", f.expiring, func(s string) (err error) { m.Expiring, err = parseExpiring(s); return })
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
	if m.Principal == "" {
		remove = append(remove, fieldPrincipal)
	} else {
		pairs = append(pairs, fieldPrincipal, m.Principal)
	}
	if len(m.Expiring) == 0 {
		remove = append(remove, fieldExpiring)
	} else {
		pairs = append(pairs, fieldExpiring, formatExpiring(m.Expiring))
	}
	return pairs, remove
}

// A value deadlines string is a run of entries, one per value with a
// deadline: the deadline string (19 digits), the length of the value's
// field name as 4 decimal digits, then that field name (store.AppendKey
// bytes, at most 5+store.MaxKeyName long), ordered by field name. The
// commit script reads and rewrites it byte by byte.
const (
	expiringDeadlineLen = 19
	expiringLengthLen   = 4
)

func formatExpiring(deadlines map[store.Key]time.Time) string {
	fields := make([]string, 0, len(deadlines))
	at := make(map[string]time.Time, len(deadlines))
	for k, t := range deadlines {
		f := string(store.AppendKey(nil, k))
		fields = append(fields, f)
		at[f] = t
	}
	slices.Sort(fields)
	var b strings.Builder
	for _, f := range fields {
		b.WriteString(formatDeadline(at[f]))
		fmt.Fprintf(&b, "%04d", len(f))
		b.WriteString(f)
	}
	return b.String()
}

func parseExpiring(s string) (map[store.Key]time.Time, error) {
	if s == "" {
		return nil, nil
	}
	deadlines := make(map[store.Key]time.Time)
	for rest := s; rest != ""; {
		const head = expiringDeadlineLen + expiringLengthLen
		if len(rest) < head {
			return nil, fmt.Errorf("truncated entry %q", rest)
		}
		at, err := parseDeadline(rest[:expiringDeadlineLen])
		if err != nil {
			return nil, err
		}
		n, err := strconv.Atoi(rest[expiringDeadlineLen:head])
		if err != nil || n < 0 || len(rest) < head+n || !isDigits(rest[expiringDeadlineLen:head]) {
			return nil, fmt.Errorf("bad field length in %q", rest)
		}
		k, err := store.ParseKey([]byte(rest[head : head+n]))
		if err != nil {
			return nil, err
		}
		deadlines[k] = at
		rest = rest[head+n:]
	}
	return deadlines, nil
}

// parseDeadline reads a deadline string: exactly 19 digits, not all
// zero (formatDeadline never writes that).
func parseDeadline(s string) (time.Time, error) {
	if len(s) != expiringDeadlineLen || !isDigits(s) || strings.Trim(s, "0") == "" {
		return time.Time{}, fmt.Errorf("deadline %q", s)
	}
	return parseTime(s)
}

func isDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
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

// expireAtMillis is the PEXPIREAT time the store gives a session whose
// deadline is t: the deadline rounded up, plus the grace that lets the
// sweeper see the session before Redis drops it.
func (s *Store) expireAtMillis(t time.Time) int64 { return expireAtMillis(t) + s.grace.Milliseconds() }

// movedAway reports whether an HGETALL reply is the trace Move left
// (see fieldMoved) and, if so, whether it still answers ErrMoved at now.
func movedAway(fields map[string]string, now time.Time) (trace, answers bool) {
	at, ok := fields[fieldMoved]
	if !ok || fields[fieldVersion] != "" {
		return false, false
	}
	until, err := parseDeadline(at)
	return true, err == nil && now.Before(until)
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
