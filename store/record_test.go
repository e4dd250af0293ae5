package store_test

import (
	"errors"
	"testing"
	"time"

	"github.com/tabkit/tabkit/store"
)

func TestMetaExpiry(t *testing.T) {
	t0 := time.Date(2025, 3, 4, 5, 6, 7, 0, time.UTC)
	tests := []struct {
		name      string
		idle, abs time.Time
		want      time.Time // ExpiresAt
	}{
		{"no deadlines", time.Time{}, time.Time{}, time.Time{}},
		{"idle only", t0, time.Time{}, t0},
		{"absolute only", time.Time{}, t0, t0},
		{"idle first", t0, t0.Add(time.Hour), t0},
		{"absolute first", t0.Add(time.Hour), t0, t0},
		{"same instant", t0, t0, t0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := store.Meta{IdleDeadline: tt.idle, AbsDeadline: tt.abs}
			if got := m.ExpiresAt(); !got.Equal(tt.want) {
				t.Errorf("ExpiresAt: got %v, want %v", got, tt.want)
			}
			// A session is over at its deadline, not a moment after.
			for _, at := range []struct {
				now  time.Time
				want bool
			}{
				{t0.Add(-time.Nanosecond), false},
				{t0, !tt.want.IsZero()},
				{t0.Add(100 * 365 * 24 * time.Hour), !tt.want.IsZero()},
			} {
				if got := m.Expired(at.now); got != at.want {
					t.Errorf("Expired(%v): got %v, want %v", at.now, got, at.want)
				}
			}
		})
	}
}

func TestMetaIsOpen(t *testing.T) {
	m := store.Meta{Tabs: map[uint32]store.TabInfo{2: {}}}
	for _, tt := range []struct {
		tab  uint32
		want bool
	}{{0, true}, {1, false}, {2, true}, {3, false}} {
		if got := m.IsOpen(tt.tab); got != tt.want {
			t.Errorf("IsOpen(%d): got %v, want %v", tt.tab, got, tt.want)
		}
	}
	if !(&store.Meta{}).IsOpen(0) {
		t.Errorf("IsOpen(0) without a tab table: got false, want true")
	}
}

func TestMetaClone(t *testing.T) {
	m := store.Meta{Tabs: map[uint32]store.TabInfo{1: {Label: "a"}}, Version: 3}
	c := m.Clone()
	c.Tabs[1] = store.TabInfo{Label: "changed"}
	c.Tabs[2] = store.TabInfo{}
	if len(m.Tabs) != 1 || m.Tabs[1].Label != "a" {
		t.Errorf("original after changing the clone: got %v, want map[1:{Label:a}]", m.Tabs)
	}
	if c.Version != 3 {
		t.Errorf("clone Version: got %d, want 3", c.Version)
	}
}

func TestDeltaIsEmpty(t *testing.T) {
	tests := []struct {
		name  string
		delta store.Delta
		want  bool
	}{
		{"zero", store.Delta{}, true},
		{"deadlines only", store.Delta{LastSeen: time.Now(), IdleDeadline: time.Now(), MaxBytes: 10}, true},
		{"create", store.Delta{Create: true}, false},
		{"edit meta", store.Delta{EditMeta: func(*store.Meta) error { return nil }}, false},
		{"delete", store.Delta{Delete: []store.Key{store.SessionKey("a")}}, false},
		{"set", store.Delta{Set: map[store.Key][]byte{store.SessionKey("a"): nil}}, false},
		{"update", store.Delta{Update: map[store.Key]store.UpdateFunc{store.SessionKey("a"): nil}}, false},
	}
	for _, tt := range tests {
		if got := tt.delta.IsEmpty(); got != tt.want {
			t.Errorf("%s: IsEmpty got %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestCheckID(t *testing.T) {
	long := make([]byte, store.MaxIDLength)
	for i := range long {
		long[i] = 'x'
	}
	for _, tt := range []struct {
		id   string
		want error
	}{
		{"", store.ErrInvalidID},
		{"a", nil},
		{string(long), nil},
		{string(long) + "x", store.ErrInvalidID},
	} {
		if got := store.CheckID(tt.id); !errors.Is(got, tt.want) {
			t.Errorf("CheckID of %d bytes: got %v, want %v", len(tt.id), got, tt.want)
		}
	}
}

func TestClockNil(t *testing.T) {
	var c store.Clock
	before := time.Now()
	if got := c.Now(); got.Before(before) || got.After(time.Now()) {
		t.Errorf("nil Clock.Now: got %v, want the current time", got)
	}
	fixed := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	if got := store.Clock(func() time.Time { return fixed }).Now(); !got.Equal(fixed) {
		t.Errorf("Clock.Now: got %v, want %v", got, fixed)
	}
}
