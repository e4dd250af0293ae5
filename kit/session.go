package kit

import (
	"bytes"
	"fmt"
	"reflect"
	"slices"
	"strings"

	"github.com/tabkit/tabkit/store"
)

// Session is the request's session. Its methods use the session-wide
// namespace; Tab returns the same methods on the current tab's namespace.
// Changes are committed before the response's first byte, all together;
// Update, Regenerate and Destroy take effect before they return.
type Session struct {
	namespace
}

// namespace holds the value methods Session and Tab share.
type namespace struct {
	st *requestState
	// inTab selects the tab namespace; noTab marks a Tab view of a
	// request that has no tab.
	inTab bool
	noTab bool
}

// reservedPrefix starts the names of the kit's own keys.
const reservedPrefix = "\x00"

// flashPrefix names the key holding a flash list.
const flashPrefix = reservedPrefix + "flash:"

func (n namespace) key(name string) store.Key {
	if n.inTab {
		return store.TabKey(uint32(n.st.tab), name)
	}
	return store.SessionKey(name)
}

func (n namespace) userKey(name string) (store.Key, error) {
	if n.noTab {
		return store.Key{}, ErrNoTab
	}
	if strings.HasPrefix(name, reservedPrefix) {
		return store.Key{}, ErrReservedKey
	}
	return n.key(name), nil
}

// Get decodes the value of key into dst. found is false when there is no
// such key; that is not an error.
func (n namespace) Get(key string, dst any) (found bool, err error) {
	k, err := n.userKey(key)
	if err != nil {
		return false, err
	}
	v, found, err := n.st.value(k)
	if err != nil || !found {
		return false, err
	}
	if err := n.st.m.cfg.Codec.Unmarshal(v, dst); err != nil {
		return true, fmt.Errorf("kit: decoding %q: %w", key, err)
	}
	return true, nil
}

// Set stores v under key. It fails with an error wrapping
// store.ErrTooLarge when the session would outgrow
// Config.MaxSessionBytes.
func (n namespace) Set(key string, v any) error {
	k, err := n.userKey(key)
	if err != nil {
		return err
	}
	b, err := n.st.m.cfg.Codec.Marshal(v)
	if err != nil {
		return fmt.Errorf("kit: encoding %q: %w", key, err)
	}
	return n.st.put(k, b)
}

// Delete removes key. Removing a missing key is not an error.
func (n namespace) Delete(key string) error {
	k, err := n.userKey(key)
	if err != nil {
		return err
	}
	return n.st.remove(k)
}

// Update changes key atomically: inside the store's transaction it
// decodes the current value into v (which must be a non-nil pointer; it is
// zeroed first, so a missing key leaves the zero value), calls fn, which
// changes *v, and stores the result. fn may run more than once when
// concurrent requests collide, so it must only change *v. Pending changes
// of the request are committed with it. When Update returns nil the
// change is durable; v then holds the stored value.
func (n namespace) Update(key string, v any, fn func() error) error {
	k, err := n.userKey(key)
	if err != nil {
		return err
	}
	ptr := reflect.ValueOf(v)
	if ptr.Kind() != reflect.Pointer || ptr.IsNil() {
		return fmt.Errorf("kit: Update of %q needs a non-nil pointer, got %T", key, v)
	}
	codec := n.st.m.cfg.Codec
	var result []byte
	update := func(old []byte, found bool) ([]byte, error) {
		ptr.Elem().SetZero()
		if found {
			if err := codec.Unmarshal(old, v); err != nil {
				return nil, fmt.Errorf("kit: decoding %q: %w", key, err)
			}
		}
		if err := fn(); err != nil {
			return nil, err
		}
		b, err := codec.Marshal(v)
		if err != nil {
			return nil, fmt.Errorf("kit: encoding %q: %w", key, err)
		}
		result = b
		return b, nil
	}
	if _, err := n.st.commit(func(d *store.Delta) {
		if d.Update == nil {
			d.Update = make(map[store.Key]store.UpdateFunc, 1)
		}
		d.Update[k] = update
	}); err != nil {
		return err
	}
	n.st.rec.Values[k] = result
	return nil
}

// Flash adds v to the list of flashes under key: messages for the next
// page this namespace shows, read once with Flashes. Concurrent flashes
// are all kept.
func (n namespace) Flash(key string, v any) error {
	if n.noTab {
		return ErrNoTab
	}
	b, err := n.st.m.cfg.Codec.Marshal(v)
	if err != nil {
		return fmt.Errorf("kit: encoding flash %q: %w", key, err)
	}
	item := appendFlash(nil, b)
	return n.st.queueUpdate(n.key(flashPrefix+key), func(old []byte, _ bool) ([]byte, error) {
		return append(slices.Clip(old), item...), nil
	})
}

// Flashes appends the flashes under key to the slice dst points to and
// removes them, so each is shown once. It returns how many there were.
func (n namespace) Flashes(key string, dst any) (int, error) {
	if n.noTab {
		return 0, ErrNoTab
	}
	slice := reflect.ValueOf(dst)
	if slice.Kind() != reflect.Pointer || slice.Elem().Kind() != reflect.Slice {
		return 0, fmt.Errorf("kit: Flashes of %q needs a pointer to a slice, got %T", key, dst)
	}
	k := n.key(flashPrefix + key)
	list, found, err := n.st.value(k)
	if err != nil || !found {
		return 0, err
	}
	items, err := splitFlashes(list)
	if err != nil {
		return 0, fmt.Errorf("kit: reading flashes %q: %w", key, err)
	}
	codec := n.st.m.cfg.Codec
	for _, item := range items {
		elem := reflect.New(slice.Elem().Type().Elem())
		if err := codec.Unmarshal(item, elem.Interface()); err != nil {
			return 0, fmt.Errorf("kit: decoding flash %q: %w", key, err)
		}
		slice.Elem().Set(reflect.Append(slice.Elem(), elem.Elem()))
	}
	// Remove what was read, not the key: a flash added meanwhile by a
	// concurrent request stays for the next page.
	return len(items), n.st.queueUpdate(k, func(old []byte, _ bool) ([]byte, error) {
		if !bytes.HasPrefix(old, list) {
			return old, nil
		}
		if len(old) == len(list) {
			return nil, nil
		}
		return old[len(list):], nil
	})
}

// Keys lists the namespace's keys, sorted.
func (n namespace) Keys() ([]string, error) {
	if n.noTab {
		return nil, ErrNoTab
	}
	if err := n.st.load(); err != nil {
		return nil, err
	}
	var keys []string
	seen := func(k store.Key) bool {
		return k.InTab == n.inTab && (!n.inTab || k.Tab == uint32(n.st.tab)) && !strings.HasPrefix(k.Name, reservedPrefix)
	}
	for k := range n.st.rec.Values {
		if seen(k) && !n.st.del[k] {
			if _, pending := n.st.set[k]; !pending {
				keys = append(keys, k.Name)
			}
		}
	}
	for k := range n.st.set {
		if seen(k) {
			keys = append(keys, k.Name)
		}
	}
	slices.Sort(keys)
	return keys, nil
}

// Tab returns the current tab's namespace. On a request without a tab
// (an exempt or skipped route) its methods return ErrNoTab.
func (s *Session) Tab() *Tab {
	return &Tab{namespace: namespace{st: s.st, inTab: true, noTab: !s.st.hasTab}}
}

// Discard drops the changes this request queued and has not committed yet
// (Set, Delete, Flash, SetLabel, in the session and every tab). What
// Update, Regenerate and Destroy did stays done. Queue a flash before an
// Update to have both land in one commit, and Discard it if the Update
// fails.
func (s *Session) Discard() {
	s.st.clearPending()
}

// IsNew reports whether the request arrived without a live session.
func (s *Session) IsNew() (bool, error) {
	if err := s.st.load(); err != nil {
		return false, err
	}
	return !s.st.found, nil
}

// Regenerate moves the session to a new ID, keeping its data, removes the
// old record and sends the new cookie. Call it when privileges change
// (sign-in), so an ID planted before cannot ride along.
func (s *Session) Regenerate() error {
	st := s.st
	if err := st.load(); err != nil {
		return err
	}
	if !st.found {
		// Nothing stored yet: the session gets a fresh ID when it is
		// created, and never the one the browser sent.
		st.id = ""
		return nil
	}
	oldID, old := st.id, st.rec
	values := make(map[store.Key][]byte, len(old.Values)+len(st.set))
	for k, v := range old.Values {
		if !st.del[k] {
			values[k] = v
		}
	}
	for k, v := range st.set {
		values[k] = v
	}
	for k := range st.updates {
		// Pending updates are replayed on the new session, over the
		// values copied as they were loaded.
		delete(values, k)
		if v, ok := old.Values[k]; ok && !st.del[k] {
			values[k] = v
		}
	}
	edits, updates := st.edits, st.updates
	st.id, st.found, st.set, st.del, st.edits, st.updates = "", false, values, nil, nil, updates
	st.edits = append([]func(*store.Meta) error{func(m *store.Meta) error {
		m.Tabs, m.NextTab = old.Meta.Clone().Tabs, old.Meta.NextTab
		return nil
	}}, edits...)
	if _, err := st.commit(nil); err != nil {
		st.id, st.found, st.rec = oldID, true, old
		return err
	}
	if err := st.m.store.Delete(st.ctx(), oldID); err != nil {
		// The new session is live and the cookie will name it; the old
		// record only lingers until it expires.
		st.m.log.Error("removing the old session after regenerating", "err", err)
		return fmt.Errorf("kit: removing old session: %w", err)
	}
	return nil
}

// Destroy deletes the session and every tab's data and tells the browser
// to drop the cookie. A later write in the same request starts a new
// session.
func (s *Session) Destroy() error {
	st := s.st
	if st.id != "" {
		if err := st.m.store.Delete(st.ctx(), st.id); err != nil {
			return fmt.Errorf("kit: destroying session: %w", err)
		}
	}
	st.id, st.loaded, st.found = "", true, false
	st.rec = store.Record{}
	st.clearPending()
	st.cookieChanged = true
	return nil
}
