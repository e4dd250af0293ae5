package store_test

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tabkit/tabkit/store"
)

var (
	planNow = time.Date(2025, 3, 4, 5, 6, 7, 0, time.UTC)
	errRead = errors.New("read failed")
	errBoom = errors.New("boom")
)

// session builds the meta a store would hold for values, with tabs open
// besides those the values need.
func session(values map[store.Key]string, tabs ...uint32) *store.Meta {
	m := &store.Meta{
		Created: planNow.Add(-time.Hour),
		Tabs:    make(map[uint32]store.TabInfo),
		NextTab: 1,
		Version: 5,
	}
	for _, n := range tabs {
		m.Tabs[n] = store.TabInfo{Label: "open"}
	}
	for k, v := range values {
		size := int64(len(k.Name) + len(v))
		m.Bytes += size
		if k.InTab {
			info := m.Tabs[k.Tab]
			info.Bytes += size
			m.Tabs[k.Tab] = info
		}
	}
	for n := range m.Tabs {
		m.NextTab = max(m.NextTab, n+1)
	}
	return m
}

func withNextTab(m *store.Meta, n uint32) *store.Meta {
	m.NextTab = n
	return m
}

func setOf(values map[store.Key]string) map[store.Key][]byte {
	b := make(map[store.Key][]byte, len(values))
	for k, v := range values {
		b[k] = []byte(v)
	}
	return b
}

func constant(v string) store.UpdateFunc {
	return func([]byte, bool) ([]byte, error) {
		if v == "<nil>" {
			return nil, nil
		}
		return []byte(v), nil
	}
}

func appending(suffix string) store.UpdateFunc {
	return func(old []byte, _ bool) ([]byte, error) { return append(old, suffix...), nil }
}

func dropTab(n uint32) func(*store.Meta) error {
	return func(m *store.Meta) error { delete(m.Tabs, n); return nil }
}

func openTab(n uint32) func(*store.Meta) error {
	return func(m *store.Meta) error { m.Tabs[n] = store.TabInfo{Created: planNow}; return nil }
}

var (
	sa = store.SessionKey("a")
	sb = store.SessionKey("b")
)

func TestPlanCommit(t *testing.T) {
	tests := []struct {
		name    string
		current *store.Meta // nil when the session is absent or expired
		values  map[store.Key]string
		getErr  error // returned by every read of a value
		delta   store.Delta
		wantErr error

		// What the plan must say, when wantErr is nil.
		wantPut    map[store.Key]string
		wantRemove []store.Key
		wantDrop   []uint32
		wantBytes  int64
		wantTabs   map[uint32]int64 // tab number → Bytes; also the tab set
		wantNext   uint32
		wantVer    uint64
	}{
		{
			name:      "create",
			delta:     store.Delta{Create: true, Set: setOf(map[store.Key]string{sa: "1"})},
			wantPut:   map[store.Key]string{sa: "1"},
			wantBytes: 2, wantNext: 1, wantVer: 1,
		},
		{
			name:      "create never reads",
			getErr:    errRead,
			delta:     store.Delta{Create: true, Update: map[store.Key]store.UpdateFunc{sa: appending("x")}},
			wantPut:   map[store.Key]string{sa: "x"},
			wantBytes: 2, wantNext: 1, wantVer: 1,
		},
		{
			name:    "create over a live session",
			current: session(nil),
			delta:   store.Delta{Create: true},
			wantErr: store.ErrExists,
		},
		{
			name:    "commit to an absent session",
			delta:   store.Delta{Set: setOf(map[store.Key]string{sa: "1"})},
			wantErr: store.ErrNotFound,
		},
		{
			name:    "read error",
			current: session(nil),
			getErr:  errRead,
			delta:   store.Delta{Set: setOf(map[store.Key]string{sa: "1"})},
			wantErr: errRead,
		},
		{
			name:      "deadlines only",
			current:   session(map[store.Key]string{sa: "1"}),
			values:    map[store.Key]string{sa: "1"},
			delta:     store.Delta{LastSeen: planNow},
			wantBytes: 2, wantNext: 1, wantVer: 6,
		},
		{
			name:      "overwrite",
			current:   session(map[store.Key]string{sa: "1"}),
			values:    map[store.Key]string{sa: "1"},
			delta:     store.Delta{Set: setOf(map[store.Key]string{sa: "333"})},
			wantPut:   map[store.Key]string{sa: "333"},
			wantBytes: 4, wantNext: 1, wantVer: 6,
		},
		{
			name:       "delete present and missing",
			current:    session(map[store.Key]string{sa: "1"}),
			values:     map[store.Key]string{sa: "1"},
			delta:      store.Delta{Delete: []store.Key{sa, sb, sa}},
			wantRemove: []store.Key{sa},
			wantBytes:  0, wantNext: 1, wantVer: 6,
		},
		{
			name:      "delete then set",
			current:   session(map[store.Key]string{sa: "1"}),
			values:    map[store.Key]string{sa: "1"},
			delta:     store.Delta{Delete: []store.Key{sa}, Set: setOf(map[store.Key]string{sa: "22"})},
			wantPut:   map[store.Key]string{sa: "22"},
			wantBytes: 3, wantNext: 1, wantVer: 6,
		},
		{
			name:      "update sees set",
			current:   session(nil),
			delta:     store.Delta{Set: setOf(map[store.Key]string{sa: "1"}), Update: map[store.Key]store.UpdateFunc{sa: appending("2")}},
			wantPut:   map[store.Key]string{sa: "12"},
			wantBytes: 3, wantNext: 1, wantVer: 6,
		},
		{
			name:       "update to nil deletes",
			current:    session(map[store.Key]string{sa: "1"}),
			values:     map[store.Key]string{sa: "1"},
			delta:      store.Delta{Update: map[store.Key]store.UpdateFunc{sa: constant("<nil>"), sb: constant("<nil>")}},
			wantRemove: []store.Key{sa},
			wantBytes:  0, wantNext: 1, wantVer: 6,
		},
		{
			name:      "update to empty keeps the key",
			current:   session(nil),
			delta:     store.Delta{Update: map[store.Key]store.UpdateFunc{sa: constant("")}},
			wantPut:   map[store.Key]string{sa: ""},
			wantBytes: 1, wantNext: 1, wantVer: 6,
		},
		{
			name:    "update error",
			current: session(nil),
			delta: store.Delta{Update: map[store.Key]store.UpdateFunc{
				sa: func([]byte, bool) ([]byte, error) { return nil, errBoom },
			}},
			wantErr: errBoom,
		},
		{
			name:      "first value of tab 0 opens it",
			current:   session(map[store.Key]string{sa: "1"}),
			values:    map[store.Key]string{sa: "1"},
			delta:     store.Delta{Set: setOf(map[store.Key]string{store.TabKey(0, "c"): "cc"})},
			wantPut:   map[store.Key]string{store.TabKey(0, "c"): "cc"},
			wantBytes: 5, wantTabs: map[uint32]int64{0: 3}, wantNext: 1, wantVer: 6,
		},
		{
			name:    "set in a tab not open",
			current: session(nil, 1),
			delta:   store.Delta{Set: setOf(map[store.Key]string{store.TabKey(2, "c"): "1"})},
			wantErr: store.ErrNoTab,
		},
		{
			name:    "update in a tab not open",
			current: session(nil, 1),
			delta:   store.Delta{Update: map[store.Key]store.UpdateFunc{store.TabKey(2, "c"): constant("1")}},
			wantErr: store.ErrNoTab,
		},
		{
			name:      "delete in a tab not open",
			current:   session(nil, 1),
			delta:     store.Delta{Delete: []store.Key{store.TabKey(2, "c")}},
			wantTabs:  map[uint32]int64{1: 0},
			wantBytes: 0, wantNext: 2, wantVer: 6,
		},
		{
			name:      "set in a tab the delta opens",
			current:   session(nil, 1),
			delta:     store.Delta{EditMeta: openTab(2), Set: setOf(map[store.Key]string{store.TabKey(2, "c"): "1"})},
			wantPut:   map[store.Key]string{store.TabKey(2, "c"): "1"},
			wantBytes: 2, wantTabs: map[uint32]int64{1: 0, 2: 2}, wantNext: 3, wantVer: 6,
		},
		{
			name:    "set in a tab the delta closes",
			current: session(map[store.Key]string{store.TabKey(1, "c"): "1"}, 1),
			values:  map[store.Key]string{store.TabKey(1, "c"): "1"},
			delta:   store.Delta{EditMeta: dropTab(1), Set: setOf(map[store.Key]string{store.TabKey(1, "c"): "2"})},
			wantErr: store.ErrNoTab,
		},
		{
			name:    "set in tab 0 when the delta closes it",
			current: session(map[store.Key]string{store.TabKey(0, "c"): "1"}),
			values:  map[store.Key]string{store.TabKey(0, "c"): "1"},
			delta:   store.Delta{EditMeta: dropTab(0), Set: setOf(map[store.Key]string{store.TabKey(0, "d"): "2"})},
			wantErr: store.ErrNoTab,
		},
		{
			name: "close a tab",
			current: session(map[store.Key]string{
				sa: "1", store.TabKey(1, "c"): "1", store.TabKey(1, "d"): "22", store.TabKey(2, "c"): "3",
			}, 1, 2),
			values: map[store.Key]string{
				sa: "1", store.TabKey(1, "c"): "1", store.TabKey(1, "d"): "22", store.TabKey(2, "c"): "3",
			},
			delta: store.Delta{
				EditMeta: dropTab(1),
				// Gone with the tab anyway: not listed in Remove.
				Delete: []store.Key{store.TabKey(1, "c"), store.TabKey(2, "c")},
			},
			wantRemove: []store.Key{store.TabKey(2, "c")},
			wantDrop:   []uint32{1},
			wantBytes:  2, wantTabs: map[uint32]int64{2: 0}, wantNext: 3, wantVer: 6,
		},
		{
			name:    "EditMeta cannot touch what the store owns",
			current: session(map[store.Key]string{store.TabKey(1, "c"): "1"}, 1),
			values:  map[store.Key]string{store.TabKey(1, "c"): "1"},
			delta: store.Delta{EditMeta: func(m *store.Meta) error {
				m.Bytes, m.Version, m.NextTab = 100, 100, 0
				m.Tabs[1] = store.TabInfo{Bytes: 100, Label: "relabelled"}
				return nil
			}},
			wantBytes: 2, wantTabs: map[uint32]int64{1: 2}, wantNext: 2, wantVer: 6,
		},
		{
			name:    "EditMeta cannot lower NextTab",
			current: withNextTab(session(nil, 1), 5), // tabs 2 to 4 were closed
			delta: store.Delta{EditMeta: func(m *store.Meta) error {
				m.NextTab = 1
				return nil
			}},
			wantTabs:  map[uint32]int64{1: 0},
			wantBytes: 0, wantNext: 5, wantVer: 6,
		},
		{
			name:      "NextTab moves above a tab opened by number",
			current:   session(nil, 1),
			delta:     store.Delta{EditMeta: openTab(10)},
			wantTabs:  map[uint32]int64{1: 0, 10: 0},
			wantBytes: 0, wantNext: 11, wantVer: 6,
		},
		{
			name:    "EditMeta error",
			current: session(nil),
			delta:   store.Delta{EditMeta: func(*store.Meta) error { return errBoom }},
			wantErr: errBoom,
		},
		{
			name:    "empty key name",
			current: session(nil),
			delta:   store.Delta{Set: setOf(map[store.Key]string{store.SessionKey(""): "1"})},
			wantErr: store.ErrTooLarge,
		},
		{
			name:    "key name too long",
			current: session(nil),
			delta:   store.Delta{Update: map[store.Key]store.UpdateFunc{store.SessionKey(strings.Repeat("k", store.MaxKeyName+1)): constant("1")}},
			wantErr: store.ErrTooLarge,
		},
		{
			name:      "longest key name",
			current:   session(nil),
			delta:     store.Delta{Set: setOf(map[store.Key]string{store.SessionKey(strings.Repeat("k", store.MaxKeyName)): ""})},
			wantPut:   map[store.Key]string{store.SessionKey(strings.Repeat("k", store.MaxKeyName)): ""},
			wantBytes: store.MaxKeyName, wantNext: 1, wantVer: 6,
		},
		{
			name:    "over MaxBytes",
			current: session(map[store.Key]string{sa: "123"}),
			values:  map[store.Key]string{sa: "123"},
			delta:   store.Delta{MaxBytes: 5, Set: setOf(map[store.Key]string{sb: "1"})},
			wantErr: store.ErrTooLarge,
		},
		{
			name:      "at MaxBytes",
			current:   session(map[store.Key]string{sa: "123"}),
			values:    map[store.Key]string{sa: "123"},
			delta:     store.Delta{MaxBytes: 5, Set: setOf(map[store.Key]string{sa: "1234"})},
			wantPut:   map[store.Key]string{sa: "1234"},
			wantBytes: 5, wantNext: 1, wantVer: 6,
		},
		{
			name:      "shrinking while over MaxBytes",
			current:   session(map[store.Key]string{sa: "123456789"}),
			values:    map[store.Key]string{sa: "123456789"},
			delta:     store.Delta{MaxBytes: 5, Set: setOf(map[store.Key]string{sa: "12345678"})},
			wantPut:   map[store.Key]string{sa: "12345678"},
			wantBytes: 9, wantNext: 1, wantVer: 6,
		},
		{
			name:      "same size while over MaxBytes",
			current:   session(map[store.Key]string{sa: "123456789"}),
			values:    map[store.Key]string{sa: "123456789"},
			delta:     store.Delta{MaxBytes: 5, Set: setOf(map[store.Key]string{sa: "abcdefghi"})},
			wantPut:   map[store.Key]string{sa: "abcdefghi"},
			wantBytes: 10, wantNext: 1, wantVer: 6,
		},
		{
			name:    "growing while over MaxBytes",
			current: session(map[store.Key]string{sa: "123456789"}),
			values:  map[store.Key]string{sa: "123456789"},
			delta:   store.Delta{MaxBytes: 5, Set: setOf(map[store.Key]string{sa: "1234567890"})},
			wantErr: store.ErrTooLarge,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			values := setOf(tt.values)
			get := func(k store.Key) ([]byte, bool, error) {
				if tt.getErr != nil {
					return nil, false, tt.getErr
				}
				v, ok := values[k]
				return v, ok, nil
			}
			p, err := store.PlanCommit(planNow, tt.current, get, &tt.delta)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("error: got %v, want %v", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("error: got %v, want nil", err)
			}
			if got, want := p.Put, setOf(tt.wantPut); !maps.EqualFunc(got, want, func(a, b []byte) bool { return string(a) == string(b) }) {
				t.Errorf("Put: got %s, want %s", fmtValues(got), fmtValues(want))
			}
			if got := sortKeys(p.Remove); !slices.Equal(got, sortKeys(tt.wantRemove)) {
				t.Errorf("Remove: got %v, want %v", got, tt.wantRemove)
			}
			if got := slices.Sorted(slices.Values(p.DropTabs)); !slices.Equal(got, tt.wantDrop) {
				t.Errorf("DropTabs: got %v, want %v", got, tt.wantDrop)
			}
			if p.Meta.Bytes != tt.wantBytes {
				t.Errorf("Bytes: got %d, want %d", p.Meta.Bytes, tt.wantBytes)
			}
			gotTabs := make(map[uint32]int64, len(p.Meta.Tabs))
			for n, info := range p.Meta.Tabs {
				gotTabs[n] = info.Bytes
			}
			if !maps.Equal(gotTabs, tt.wantTabs) && (len(gotTabs) != 0 || len(tt.wantTabs) != 0) {
				t.Errorf("tab bytes: got %v, want %v", gotTabs, tt.wantTabs)
			}
			if p.Meta.NextTab != tt.wantNext {
				t.Errorf("NextTab: got %d, want %d", p.Meta.NextTab, tt.wantNext)
			}
			if p.Meta.Version != tt.wantVer {
				t.Errorf("Version: got %d, want %d", p.Meta.Version, tt.wantVer)
			}
		})
	}
}

func sortKeys(keys []store.Key) []store.Key {
	keys = slices.Clone(keys)
	slices.SortFunc(keys, func(a, b store.Key) int {
		return strings.Compare(string(store.AppendKey(nil, a)), string(store.AppendKey(nil, b)))
	})
	return keys
}

func TestPlanCommitTimes(t *testing.T) {
	earlier := planNow.Add(-time.Hour)
	current := &store.Meta{Created: earlier, LastSeen: earlier, IdleDeadline: planNow.Add(time.Minute), AbsDeadline: planNow.Add(time.Hour), NextTab: 1}
	tests := []struct {
		name    string
		current *store.Meta
		delta   store.Delta
		want    store.Meta // only the times are compared
	}{
		{
			name:  "create stamps now",
			delta: store.Delta{Create: true},
			want:  store.Meta{Created: planNow, LastSeen: planNow},
		},
		{
			name:  "create with deadlines",
			delta: store.Delta{Create: true, IdleDeadline: planNow.Add(time.Hour), AbsDeadline: planNow.Add(2 * time.Hour)},
			want:  store.Meta{Created: planNow, LastSeen: planNow, IdleDeadline: planNow.Add(time.Hour), AbsDeadline: planNow.Add(2 * time.Hour)},
		},
		{
			name:    "zero fields keep the session's",
			current: current,
			delta:   store.Delta{Set: setOf(map[store.Key]string{sa: "1"})},
			want:    *current,
		},
		{
			name:    "non-zero fields replace them",
			current: current,
			delta:   store.Delta{LastSeen: planNow, IdleDeadline: planNow.Add(30 * time.Minute)},
			want:    store.Meta{Created: earlier, LastSeen: planNow, IdleDeadline: planNow.Add(30 * time.Minute), AbsDeadline: planNow.Add(time.Hour)},
		},
		{
			name:    "EditMeta runs after the delta's deadlines",
			current: current,
			delta: store.Delta{IdleDeadline: planNow.Add(time.Minute), EditMeta: func(m *store.Meta) error {
				m.IdleDeadline = m.IdleDeadline.Add(time.Minute)
				m.AbsDeadline = time.Time{}
				return nil
			}},
			want: store.Meta{Created: earlier, LastSeen: earlier, IdleDeadline: planNow.Add(2 * time.Minute)},
		},
	}
	get := func(store.Key) ([]byte, bool, error) { return nil, false, nil }
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := store.PlanCommit(planNow, tt.current, get, &tt.delta)
			if err != nil {
				t.Fatalf("error: got %v, want nil", err)
			}
			for _, f := range []struct {
				name      string
				got, want time.Time
			}{
				{"Created", p.Meta.Created, tt.want.Created},
				{"LastSeen", p.Meta.LastSeen, tt.want.LastSeen},
				{"IdleDeadline", p.Meta.IdleDeadline, tt.want.IdleDeadline},
				{"AbsDeadline", p.Meta.AbsDeadline, tt.want.AbsDeadline},
			} {
				if !f.got.Equal(f.want) {
					t.Errorf("%s: got %v, want %v", f.name, f.got, f.want)
				}
			}
		})
	}
}

// TestPlanCommitOwnsItsData checks PlanCommit neither shares memory with
// its inputs nor changes them: a failed plan must leave the stored session
// as it was, and a successful one must not change with the caller's slices.
func TestPlanCommitOwnsItsData(t *testing.T) {
	current := session(map[store.Key]string{sa: "1", store.TabKey(1, "c"): "2"}, 1)
	snapshot := current.Clone()
	stored := setOf(map[store.Key]string{sa: "1", store.TabKey(1, "c"): "2"})
	get := func(k store.Key) ([]byte, bool, error) { v, ok := stored[k]; return v, ok, nil }
	value := []byte("new")
	d := store.Delta{
		EditMeta: dropTab(1),
		Set:      map[store.Key][]byte{sb: value},
		Update: map[store.Key]store.UpdateFunc{sa: func(old []byte, _ bool) ([]byte, error) {
			old[0] = 'X' // scribbling on the input must not reach the store
			return nil, errBoom
		}},
	}
	if _, err := store.PlanCommit(planNow, current, get, &d); !errors.Is(err, errBoom) {
		t.Fatalf("error: got %v, want %v", err, errBoom)
	}
	if got := string(stored[sa]); got != "1" {
		t.Errorf("stored value after a scribbling update: got %q, want %q", got, "1")
	}
	if _, ok := current.Tabs[1]; !ok || current.Bytes != snapshot.Bytes || current.Version != snapshot.Version {
		t.Errorf("current meta after PlanCommit: got %+v, want it unchanged %+v", *current, snapshot)
	}

	d.Update = nil
	p, err := store.PlanCommit(planNow, current, get, &d)
	if err != nil {
		t.Fatalf("error: got %v, want nil", err)
	}
	value[0] = 'X'
	if got := string(p.Put[sb]); got != "new" {
		t.Errorf("planned value after the caller changed its slice: got %q, want %q", got, "new")
	}
	if _, ok := current.Tabs[1]; !ok {
		t.Errorf("current meta lost tab 1 to the plan: got %v", current.Tabs)
	}
}

func TestPlanCommitEditMetaGetsATable(t *testing.T) {
	get := func(store.Key) ([]byte, bool, error) { return nil, false, nil }
	for _, current := range []*store.Meta{nil, {NextTab: 1}} {
		d := store.Delta{Create: current == nil, EditMeta: func(m *store.Meta) error {
			if m.Tabs == nil {
				return errors.New("nil tab table")
			}
			m.Tabs[m.NextTab] = store.TabInfo{}
			return nil
		}}
		p, err := store.PlanCommit(planNow, current, get, &d)
		if err != nil || len(p.Meta.Tabs) != 1 || p.Meta.NextTab != 2 {
			t.Errorf("EditMeta opening tab 1 (create %v): got tabs %v, NextTab %d, %v, want tab 1, 2, nil", d.Create, p.Meta.Tabs, p.Meta.NextTab, err)
		}
	}
}

func fmtValues(values map[store.Key][]byte) string {
	parts := make([]string, 0, len(values))
	for _, k := range sortKeys(slices.Collect(maps.Keys(values))) {
		parts = append(parts, fmt.Sprintf("%+v=%q", k, values[k]))
	}
	return "{" + strings.Join(parts, " ") + "}"
}
