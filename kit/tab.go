package kit

import (
	"cmp"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/tabkit/tabkit/store"
	"github.com/tabkit/tabkit/tabs"
)

// Tab is the current tab's part of the session: the same value methods as
// Session, on keys only this tab sees, plus what describes the tab.
type Tab struct {
	q *request
}

func (t *Tab) request() *request { return t.q }

// errBareTab is what Tab's methods return on a request to a tab route
// that named no tab: the client's mistake, not the app's.
var errBareTab = &Error{Status: http.StatusBadRequest, Err: ErrNoTab,
	Message: "This request does not say which tab it belongs to. Reload the page and try again."}

// noTab returns the error for a request without a tab, or nil.
func (t *Tab) noTab() error {
	if _, ok := t.q.unit.Tab(); ok {
		return nil
	}
	if t.q.entry == bareEntry && !t.q.exempt {
		return errBareTab
	}
	return ErrNoTab
}

func (t *Tab) key(name string) (store.Key, error) {
	if err := t.noTab(); err != nil {
		return store.Key{}, err
	}
	if strings.HasPrefix(name, reservedPrefix) {
		return store.Key{}, ErrReservedKey
	}
	tab, _ := t.q.unit.Tab()
	return store.TabKey(uint32(tab), name), nil
}

// Get decodes the value of key into dst. found is false when there is no
// such key; that is not an error.
func (t *Tab) Get(key string, dst any) (found bool, err error) { return get(t, key, dst) }

// Set stores v under key. It fails with an error wrapping
// store.ErrTooLarge when the session would outgrow
// Config.MaxSessionBytes.
func (t *Tab) Set(key string, v any) error { return set(t, key, v, 0) }

// SetWithTTL stores v under key for ttl: from then on the value reads as
// missing, and its bytes are reclaimed.
func (t *Tab) SetWithTTL(key string, v any, ttl time.Duration) error {
	return setWithTTL(t, key, v, ttl)
}

// Delete removes key. Removing a missing key is not an error.
func (t *Tab) Delete(key string) error { return del(t, key) }

// Update changes key atomically; see Session.Update.
func (t *Tab) Update(key string, v any, fn func() error) error { return update(t, key, v, fn) }

// Flash adds v to this tab's flashes under key; see Session.Flash.
func (t *Tab) Flash(key string, v any) error { return flash(t, key, v) }

// Flashes takes this tab's flashes under key; see Session.Flashes. Under
// FlashKey it also returns the kit's own notices for this tab
// (UnknownTabMessage, a fork's message).
func (t *Tab) Flashes(key string, dst any) (int, error) { return flashes(t, key, dst) }

// Keys lists the tab's keys, sorted.
func (t *Tab) Keys() ([]string, error) { return keys(t) }

// ID returns the tab's number. It is 0 on a request without a tab.
func (t *Tab) ID() tabs.ID {
	tab, _ := t.q.unit.Tab()
	return tab
}

// URL returns path as this tab should link to it: with the tab prefix,
// unless path is exempt, absolute, or already prefixed.
func (t *Tab) URL(path string) string {
	tab, ok := t.q.unit.Tab()
	if !ok {
		return path
	}
	return t.q.m.rewriter.URL(tab, path)
}

// Label returns the tab's label, "" when it has none.
func (t *Tab) Label() (string, error) {
	if err := t.noTab(); err != nil {
		return "", err
	}
	m, err := t.q.unit.Meta()
	if err != nil {
		return "", err
	}
	return m.Tabs[uint32(t.ID())].Label, nil
}

// SetLabel names the tab ("Register 2"). It is committed with the
// request's other changes.
func (t *Tab) SetLabel(label string) error {
	if err := t.noTab(); err != nil {
		return err
	}
	return t.q.unit.SetLabel(label)
}

// Close closes the tab now: its data is deleted and its number is never
// handed out again. Tab 0 cannot close; closing it clears its data.
func (t *Tab) Close() error {
	if err := t.noTab(); err != nil {
		return err
	}
	return t.q.unit.CloseTab()
}

// TabInfo describes an open tab, for listings.
type TabInfo struct {
	ID       tabs.ID
	Label    string
	Created  time.Time
	LastSeen time.Time
	// Bytes is the size of the tab's stored data.
	Bytes int64
}

// Tabs lists the session's open tabs by number. Tab 0 is always among
// them.
func (s *Session) Tabs() ([]TabInfo, error) {
	meta, err := s.q.unit.Meta()
	if err != nil {
		return nil, err
	}
	list := []TabInfo{{ID: 0, Created: meta.Created, LastSeen: meta.LastSeen}}
	for n, info := range meta.Tabs {
		t := TabInfo{ID: tabs.ID(n), Label: info.Label, Created: info.Created, LastSeen: info.LastSeen, Bytes: info.Bytes}
		if n == 0 {
			list[0] = t
			continue
		}
		list = append(list, t)
	}
	slices.SortFunc(list, func(a, b TabInfo) int { return cmp.Compare(a.ID, b.ID) })
	return list, nil
}

// FlashKey is the flash key under which the kit leaves its own notices
// for a tab, such as UnknownTabMessage: Tab.Flashes(FlashKey, …) returns
// them.
const FlashKey = "tabkit"

// UnknownTabMessage is the notice in the tab a stale or forged tab
// number was redirected to.
const UnknownTabMessage = "That tab is no longer open, so this page opened in another one."

// ForkedMessage is the notice (under FlashKey) in a tab forked from
// parent, as the fork policy made it.
func ForkedMessage(parent tabs.ID, policy ForkPolicy) string {
	if policy == ForkEmpty {
		return fmt.Sprintf("This tab was opened as a copy of tab %d. It starts empty.", parent)
	}
	return fmt.Sprintf("This tab was opened as a copy of tab %d, with a copy of its data.", parent)
}

// The kit's notices for tabs live in one session-wide key, tab number →
// message, not in the tabs: a tab that only holds a notice still counts
// as unused, so navigations to stale numbers never push tabs with data
// out of MaxTabs. At most MaxNotices are kept, the newest.
var noticesKey = store.SessionKey(reservedPrefix + "notices")

// MaxNotices is how many of the kit's notices (UnknownTabMessage,
// ForkedMessage) a session keeps waiting, the newest: one per tab.
const MaxNotices = 8

type notice struct {
	Tab     tabs.ID `json:"t"`
	Message string  `json:"m"`
}

type notices []notice

// notify leaves message for tab.
func (s *Session) notify(tab tabs.ID, message string) error {
	return s.q.unit.Queue(noticesKey, func(old []byte, _ bool) ([]byte, error) {
		var list notices
		_ = json.Unmarshal(old, &list) // a damaged list starts over
		list = slices.DeleteFunc(list, func(n notice) bool {
			return n.Tab == tab
		})
		list = append(list, notice{tab, message})
		if len(list) > MaxNotices {
			list = list[len(list)-MaxNotices:]
		}
		return json.Marshal(list)
	})
}

// takeNotice returns this tab's notice, "" when there is none, and
// queues its removal with the request's commit, as flashes are.
func (t *Tab) takeNotice() (string, error) {
	q := t.q
	v, found, err := q.unit.Get(noticesKey)
	if err != nil || !found {
		return "", err
	}
	tab := t.ID()
	var list notices
	if json.Unmarshal(v, &list) != nil {
		return "", nil
	}
	i := slices.IndexFunc(list, func(n notice) bool { return n.Tab == tab })
	if i < 0 {
		return "", nil
	}
	message := list[i].Message
	err = q.unit.Queue(noticesKey, func(old []byte, _ bool) ([]byte, error) {
		var list notices
		if json.Unmarshal(old, &list) != nil {
			return nil, nil // a damaged list is dropped
		}
		list = slices.DeleteFunc(list, func(n notice) bool { return n.Tab == tab && n.Message == message })
		if len(list) == 0 {
			return nil, nil
		}
		return json.Marshal(list)
	})
	return message, err
}
