package storetest

import (
	"bytes"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/tabkit/tabkit/store"
)

// checkRecord checks what must hold for every loaded session, whatever the
// subtest did to it: the byte counts match the values, every tab value
// belongs to an open tab, and NextTab is above every open tab.
func checkRecord(t *testing.T, id string, rec store.Record) {
	t.Helper()
	var total int64
	perTab := make(map[uint32]int64)
	for k, v := range rec.Values {
		size := int64(len(k.Name) + len(v))
		total += size
		if !k.InTab {
			continue
		}
		perTab[k.Tab] += size
		if _, open := rec.Meta.Tabs[k.Tab]; !open {
			t.Errorf("session %q holds %s but tab %d is not in its table %v", id, keyString(k), k.Tab, tabNumbers(rec.Meta))
		}
	}
	if rec.Meta.Bytes != total {
		t.Errorf("session %q Meta.Bytes: got %d, want %d (the size of its names and values)", id, rec.Meta.Bytes, total)
	}
	for n, info := range rec.Meta.Tabs {
		if info.Bytes != perTab[n] {
			t.Errorf("session %q Tabs[%d].Bytes: got %d, want %d", id, n, info.Bytes, perTab[n])
		}
		if rec.Meta.NextTab <= n {
			t.Errorf("session %q NextTab: got %d, want above open tab %d", id, rec.Meta.NextTab, n)
		}
	}
	for k := range rec.Meta.Expiring {
		if _, ok := rec.Values[k]; !ok {
			t.Errorf("session %q has a deadline for %s but no such value", id, keyString(k))
		}
	}
	if rec.Meta.NextTab == 0 {
		t.Errorf("session %q NextTab: got 0, want at least 1 (tab 0 is always open)", id)
	}
}

// diffRecord describes the first difference between two records, or
// returns "" when they are equal.
func diffRecord(got, want store.Record) string {
	if d := diffMeta(got.Meta, want.Meta); d != "" {
		return d
	}
	return diffValues(got.Values, want.Values)
}

// diffMeta describes the first difference between two metas, or returns ""
// when they are equal. Times compare with Equal and a nil tab table equals
// an empty one, since neither survives every encoding.
func diffMeta(got, want store.Meta) string {
	times := []struct {
		name      string
		got, want time.Time
	}{
		{"Created", got.Created, want.Created},
		{"LastSeen", got.LastSeen, want.LastSeen},
		{"IdleDeadline", got.IdleDeadline, want.IdleDeadline},
		{"AbsDeadline", got.AbsDeadline, want.AbsDeadline},
	}
	for _, tt := range times {
		if !tt.got.Equal(tt.want) {
			return fmt.Sprintf("%s: got %v, want %v", tt.name, tt.got, tt.want)
		}
	}
	switch {
	case got.NextTab != want.NextTab:
		return fmt.Sprintf("NextTab: got %d, want %d", got.NextTab, want.NextTab)
	case got.Bytes != want.Bytes:
		return fmt.Sprintf("Bytes: got %d, want %d", got.Bytes, want.Bytes)
	case got.Version != want.Version:
		return fmt.Sprintf("Version: got %d, want %d", got.Version, want.Version)
	case got.Principal != want.Principal:
		return fmt.Sprintf("Principal: got %q, want %q", got.Principal, want.Principal)
	case len(got.Expiring) != len(want.Expiring):
		return fmt.Sprintf("Expiring: got %d deadlines, want %d", len(got.Expiring), len(want.Expiring))
	case len(got.Tabs) != len(want.Tabs):
		return fmt.Sprintf("Tabs: got %v, want %v", tabNumbers(got), tabNumbers(want))
	}
	for k, w := range want.Expiring {
		if g, ok := got.Expiring[k]; !ok || !g.Equal(w) {
			return fmt.Sprintf("Expiring[%s]: got %v, want %v", keyString(k), g, w)
		}
	}
	for n, w := range want.Tabs {
		g, ok := got.Tabs[n]
		switch {
		case !ok:
			return fmt.Sprintf("Tabs: got %v, want %v", tabNumbers(got), tabNumbers(want))
		case !g.Created.Equal(w.Created):
			return fmt.Sprintf("Tabs[%d].Created: got %v, want %v", n, g.Created, w.Created)
		case !g.LastSeen.Equal(w.LastSeen):
			return fmt.Sprintf("Tabs[%d].LastSeen: got %v, want %v", n, g.LastSeen, w.LastSeen)
		case g.Label != w.Label:
			return fmt.Sprintf("Tabs[%d].Label: got %q, want %q", n, g.Label, w.Label)
		case g.Bytes != w.Bytes:
			return fmt.Sprintf("Tabs[%d].Bytes: got %d, want %d", n, g.Bytes, w.Bytes)
		}
	}
	return ""
}

// diffValues describes the first difference between two value sets, or
// returns "" when they are equal. An empty value equals a nil one, but a
// missing key differs from both.
func diffValues(got, want map[store.Key][]byte) string {
	for _, k := range sortedKeys(want) {
		g, ok := got[k]
		switch {
		case !ok:
			return fmt.Sprintf("%s: got no value, want %q", keyString(k), want[k])
		case !bytes.Equal(g, want[k]):
			return fmt.Sprintf("%s: got %q, want %q", keyString(k), g, want[k])
		}
	}
	for _, k := range sortedKeys(got) {
		if _, ok := want[k]; !ok {
			return fmt.Sprintf("%s: got %q, want no value", keyString(k), got[k])
		}
	}
	return ""
}

// sortedKeys orders keys the way the codec does, so messages are stable.
func sortedKeys(values map[store.Key][]byte) []store.Key {
	keys := make([]store.Key, 0, len(values))
	for k := range values {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b store.Key) int {
		return bytes.Compare(store.AppendKey(nil, a), store.AppendKey(nil, b))
	})
	return keys
}

func keyString(k store.Key) string {
	name := fmt.Sprintf("%q", k.Name)
	if len(k.Name) > 40 {
		name = fmt.Sprintf("%q… (%d bytes)", k.Name[:40], len(k.Name))
	}
	if k.InTab {
		return fmt.Sprintf("tab %d key %s", k.Tab, name)
	}
	return "session key " + name
}

func tabNumbers(m store.Meta) []uint32 {
	tabs := make([]uint32, 0, len(m.Tabs))
	for n := range m.Tabs {
		tabs = append(tabs, n)
	}
	slices.Sort(tabs)
	return tabs
}
