package admin

import (
	"cmp"
	"encoding/binary"
	"encoding/json"
	"slices"
	"strings"
	"time"

	"github.com/tabkit/tabkit/store"
)

// flashPrefix starts the key names under which kit keeps flash lists
// (kit/session.go): a reserved NUL byte, so no application key collides.
const flashPrefix = "\x00flash:"

// Value is one stored key and its value, decoded for reading.
type Value struct {
	// Tab is the key's tab, or nil for a session-wide key.
	Tab *uint32 `json:"tab,omitempty"`
	// Key is the key name as stored; flash lists have names starting
	// with "\x00flash:".
	Key string `json:"key"`
	// Flash marks a flash list.
	Flash bool `json:"flash,omitempty"`
	// JSON is the value when it is JSON (kit's default codec).
	JSON json.RawMessage `json:"json,omitempty"`
	// Flashes are the items of a flash list, when each is JSON.
	Flashes []json.RawMessage `json:"flashes,omitempty"`
	// Raw is the value when it could not be decoded so.
	Raw []byte `json:"raw,omitempty"`
	// Bytes is the value's size.
	Bytes int `json:"bytes"`
	// Expires is the value's deadline (store.Meta.Expiring), from which
	// it reads as missing; zero when it has none.
	Expires time.Time `json:"expires,omitzero"`
}

func detail(id string, rec *store.Record) Detail {
	m := &rec.Meta
	d := Detail{
		Session:      summary(id, m),
		IdleDeadline: m.IdleDeadline,
		AbsDeadline:  m.AbsDeadline,
		Version:      m.Version,
		NextTab:      m.NextTab,
		TabTable:     []Tab{},
		Values:       []Value{},
	}
	for n, info := range m.Tabs {
		d.TabTable = append(d.TabTable, Tab{N: n, Label: info.Label, Created: info.Created, LastSeen: info.LastSeen, Bytes: info.Bytes})
	}
	slices.SortFunc(d.TabTable, func(x, y Tab) int { return cmp.Compare(x.N, y.N) })
	for k, v := range rec.Values {
		val := decodeValue(k, v)
		val.Expires = m.Expiring[k]
		d.Values = append(d.Values, val)
	}
	slices.SortFunc(d.Values, compareValues)
	return d
}

// compareValues orders session-wide keys first, then tab by tab, by name.
func compareValues(x, y Value) int {
	switch {
	case x.Tab == nil && y.Tab != nil:
		return -1
	case x.Tab != nil && y.Tab == nil:
		return 1
	case x.Tab != nil && *x.Tab != *y.Tab:
		return cmp.Compare(*x.Tab, *y.Tab)
	}
	return strings.Compare(x.Key, y.Key)
}

func decodeValue(k store.Key, v []byte) Value {
	out := Value{Key: k.Name, Bytes: len(v)}
	if k.InTab {
		tab := k.Tab
		out.Tab = &tab
	}
	if strings.HasPrefix(k.Name, flashPrefix) {
		out.Flash = true
		if items, ok := splitFlashes(v); ok {
			out.Flashes = items
			return out
		}
	} else if json.Valid(v) {
		out.JSON = json.RawMessage(v)
		return out
	}
	out.Raw = v
	return out
}

// splitFlashes reads kit's flash list: items, each its length as a
// uvarint followed by its encoded value. ok is false when the list is
// malformed or an item is not JSON.
func splitFlashes(list []byte) (items []json.RawMessage, ok bool) {
	items = []json.RawMessage{}
	for len(list) > 0 {
		n, used := binary.Uvarint(list)
		if used <= 0 || n > uint64(len(list)-used) {
			return nil, false
		}
		item := list[used : used+int(n)]
		if !json.Valid(item) {
			return nil, false
		}
		items = append(items, json.RawMessage(item))
		list = list[used+int(n):]
	}
	return items, true
}
