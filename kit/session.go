package kit

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"reflect"
	"slices"
	"strings"
	"time"

	"github.com/tabkit/tabkit/store"
)

// Session is the request's session. Its methods use the session-wide
// namespace; Tab returns the same methods on the current tab's namespace.
//
// Set, Delete, Flash, SetLabel and SetPrincipal are queued and committed
// together before the response's first byte; Update, Regenerate,
// Destroy and Tab.Close take effect before they return. A key the
// request read and then sets or deletes is committed only if no other
// request changed it meanwhile (otherwise ErrConflict, and the client
// gets 409); Update changes a key atomically instead. A change made
// after the response started is committed at once, or refused with
// ErrResponseStarted when it would need a new cookie.
type Session struct {
	q *request
}

// reservedPrefix starts the names of the kit's own keys.
const reservedPrefix = "\x00"

// flashPrefix names the key holding a flash list.
const flashPrefix = reservedPrefix + "flash:"

// namespace is what the value methods of Session and Tab work on.
type namespace interface {
	key(name string) (store.Key, error)
	request() *request
}

func (s *Session) request() *request { return s.q }

func (s *Session) key(name string) (store.Key, error) {
	if strings.HasPrefix(name, reservedPrefix) {
		return store.Key{}, ErrReservedKey
	}
	return store.SessionKey(name), nil
}

// Get decodes the value of key into dst. found is false when there is no
// such key; that is not an error.
func (s *Session) Get(key string, dst any) (found bool, err error) { return get(s, key, dst) }

// Set stores v under key. It fails with an error wrapping
// store.ErrTooLarge when the session would outgrow
// Config.MaxSessionBytes.
func (s *Session) Set(key string, v any) error { return set(s, key, v, 0) }

// SetWithTTL stores v under key for ttl: from then on the value reads as
// missing, even while the session lives, and its bytes are reclaimed.
func (s *Session) SetWithTTL(key string, v any, ttl time.Duration) error {
	return setWithTTL(s, key, v, ttl)
}

// Delete removes key. Removing a missing key is not an error.
func (s *Session) Delete(key string) error { return del(s, key) }

// Update changes key atomically: inside the store's transaction it
// decodes the current value into v (which must be a non-nil pointer; it is
// zeroed first, so a missing key leaves the zero value), calls fn, which
// changes *v, and stores the result. fn may run more than once when
// concurrent requests collide, so it must only change *v. Changes the
// request queued are committed with it. When Update returns nil the
// change is durable; v then holds the stored value.
func (s *Session) Update(key string, v any, fn func() error) error { return update(s, key, v, fn) }

// Flash adds v to the list of flashes under key: messages for the next
// page this namespace shows, read once with Flashes. Concurrent flashes
// are all kept.
func (s *Session) Flash(key string, v any) error { return flash(s, key, v) }

// Flashes appends the flashes under key to the slice dst points to and
// removes them, so each is shown once. It returns how many there were.
func (s *Session) Flashes(key string, dst any) (int, error) { return flashes(s, key, dst) }

// Keys lists the namespace's keys, sorted.
func (s *Session) Keys() ([]string, error) { return keys(s) }

func get(n namespace, name string, dst any) (bool, error) {
	k, err := n.key(name)
	if err != nil {
		return false, err
	}
	q := n.request()
	v, found, err := q.unit.Get(k)
	if err != nil || !found {
		return false, err
	}
	if err := q.m.cfg.Codec.Unmarshal(v, dst); err != nil {
		return true, fmt.Errorf("kit: decoding %q: %w", name, err)
	}
	return true, nil
}

func set(n namespace, name string, v any, ttl time.Duration) error {
	k, err := n.key(name)
	if err != nil {
		return err
	}
	q := n.request()
	b, err := q.m.cfg.Codec.Marshal(v)
	if err != nil {
		return fmt.Errorf("kit: encoding %q: %w", name, err)
	}
	return q.unit.Set(k, b, ttl)
}

func setWithTTL(n namespace, name string, v any, ttl time.Duration) error {
	if ttl <= 0 {
		return fmt.Errorf("kit: SetWithTTL of %q needs a positive time to live, got %v", name, ttl)
	}
	return set(n, name, v, ttl)
}

func del(n namespace, name string) error {
	k, err := n.key(name)
	if err != nil {
		return err
	}
	return n.request().unit.Delete(k)
}

func update(n namespace, name string, v any, fn func() error) error {
	k, err := n.key(name)
	if err != nil {
		return err
	}
	ptr := reflect.ValueOf(v)
	if ptr.Kind() != reflect.Pointer || ptr.IsNil() {
		return fmt.Errorf("kit: Update of %q needs a non-nil pointer, got %T", name, v)
	}
	q := n.request()
	codec := q.m.cfg.Codec
	_, err = q.unit.Update(k, func(old []byte, found bool) ([]byte, error) {
		ptr.Elem().SetZero()
		if found {
			if err := codec.Unmarshal(old, v); err != nil {
				return nil, fmt.Errorf("kit: decoding %q: %w", name, err)
			}
		}
		if err := fn(); err != nil {
			return nil, err
		}
		b, err := codec.Marshal(v)
		if err != nil {
			return nil, fmt.Errorf("kit: encoding %q: %w", name, err)
		}
		return b, nil
	}, 0)
	return err
}

func flash(n namespace, name string, v any) error {
	k, err := n.key(name)
	if err != nil {
		return err
	}
	q := n.request()
	b, err := q.m.cfg.Codec.Marshal(v)
	if err != nil {
		return fmt.Errorf("kit: encoding flash %q: %w", name, err)
	}
	item := appendFlash(nil, b)
	k.Name = flashPrefix + k.Name
	return q.unit.Queue(k, func(old []byte, _ bool) ([]byte, error) {
		return append(slices.Clip(old), item...), nil
	})
}

func flashes(n namespace, name string, dst any) (int, error) {
	k, err := n.key(name)
	if err != nil {
		return 0, err
	}
	slice := reflect.ValueOf(dst)
	if slice.Kind() != reflect.Pointer || slice.Elem().Kind() != reflect.Slice {
		return 0, fmt.Errorf("kit: Flashes of %q needs a pointer to a slice, got %T", name, dst)
	}
	q := n.request()
	codec := q.m.cfg.Codec
	count := 0
	if tab, isTab := n.(*Tab); isTab && name == FlashKey {
		notice, err := tab.takeNotice()
		if err != nil {
			return 0, err
		}
		if notice != "" {
			b, err := codec.Marshal(notice)
			if err != nil {
				return 0, err
			}
			if err := appendDecoded(codec, slice, b, name); err != nil {
				return 0, err
			}
			count++
		}
	}
	k.Name = flashPrefix + k.Name
	list, found, err := q.unit.Get(k)
	if err != nil || !found {
		return count, err
	}
	items, err := splitFlashes(list)
	if err != nil {
		return count, fmt.Errorf("kit: reading flashes %q: %w", name, err)
	}
	for _, item := range items {
		if err := appendDecoded(codec, slice, item, name); err != nil {
			return count, err
		}
	}
	// Removed with the request's commit, so only a page that is answered
	// uses them up: a request that fails leaves them for the next page. A
	// flash added meanwhile by another request stays for the next page
	// too. (Two pages of one tab answered at the same moment may both
	// show a flash; none is ever lost.)
	return count + len(items), q.unit.Queue(k, removePrefix(list))
}

// removePrefix is an update that drops prefix from the front of a value
// that still starts with it, and deletes a value it empties.
func removePrefix(prefix []byte) func(old []byte, _ bool) ([]byte, error) {
	return func(old []byte, _ bool) ([]byte, error) {
		if !bytes.HasPrefix(old, prefix) {
			return old, nil
		}
		if len(old) == len(prefix) {
			return nil, nil
		}
		return old[len(prefix):], nil
	}
}

func appendDecoded(codec Codec, slice reflect.Value, item []byte, name string) error {
	elem := reflect.New(slice.Elem().Type().Elem())
	if err := codec.Unmarshal(item, elem.Interface()); err != nil {
		return fmt.Errorf("kit: decoding flash %q: %w", name, err)
	}
	slice.Elem().Set(reflect.Append(slice.Elem(), elem.Elem()))
	return nil
}

func keys(n namespace) ([]string, error) {
	probe, err := n.key("k")
	if err != nil {
		return nil, err
	}
	list, err := n.request().unit.Keys(func(k store.Key) bool {
		return k.InTab == probe.InTab && (!k.InTab || k.Tab == probe.Tab) && !strings.HasPrefix(k.Name, reservedPrefix)
	})
	if err != nil {
		return nil, err
	}
	names := make([]string, len(list))
	for i, k := range list {
		names[i] = k.Name
	}
	return names, nil
}

// Tab returns the current tab's namespace. On a request without a tab
// (an exempt or skipped route) its methods return ErrNoTab; on a request
// to a tab route that named no tab, an *Error with status 400 wrapping
// ErrNoTab.
func (s *Session) Tab() *Tab { return &s.q.tab }

// IsNew reports whether the request arrived without a live session.
func (s *Session) IsNew() (bool, error) {
	exists, err := s.q.unit.Exists()
	return !exists, err
}

// Discard drops the changes this request queued and has not committed yet
// (Set, Delete, Flash, SetLabel, SetPrincipal, in the session and every
// tab). What Update, Regenerate and Destroy did stays done.
func (s *Session) Discard() { s.q.unit.Discard() }

// Regenerate moves the session to a new token, keeping its data, and
// sends the new cookie. Call it when privileges change (sign-in), so a
// token planted before cannot ride along. Writes other tabs committed
// meanwhile come along; the old token is dead at once. It fails with an
// error wrapping store.ErrNotFound when the session was ended meanwhile
// (a sign-out in another window): its data stays gone.
func (s *Session) Regenerate() error { return s.q.unit.Regenerate() }

// Destroy deletes the session and every tab's data and tells the browser
// to drop the cookie. A later write in the same request starts a new
// session.
func (s *Session) Destroy() error { return s.q.unit.Destroy() }

// SetPrincipal names who the session belongs to, usually a user ID at
// sign-in, for SessionsOf and EndSessionsOf; "" clears it. It is
// committed with the request's other changes, under
// Config.MaxSessionsPerPrincipal. Regenerate keeps it; Destroy removes it.
func (s *Session) SetPrincipal(p string) error { return s.q.unit.SetPrincipal(p) }

// Principal returns the session's principal, "" when it has none.
func (s *Session) Principal() (string, error) { return s.q.unit.Principal() }

// RememberMe overrides Config.PersistentCookies for this session: on
// sends a cookie that outlives the browser (until the session's absolute
// deadline), off one that ends with it. Server-side timeouts are the
// same either way.
func (s *Session) RememberMe(on bool) error { return s.q.unit.RememberMe(on) }

// OtherSessions lists the other live sessions of this session's
// principal (other browsers signed in as the same user), most recently
// seen first. Without a principal it returns none.
func (s *Session) OtherSessions() ([]SessionInfo, error) {
	p, err := s.Principal()
	if err != nil || p == "" {
		return nil, err
	}
	q := s.q
	list, err := q.m.SessionsOf(q.unit.Context(), p)
	if err != nil {
		return nil, err
	}
	return slices.DeleteFunc(list, func(si SessionInfo) bool { return si.Handle == q.unit.Handle() }), nil
}

// EndOtherSessions ends every other session of this session's principal
// ("sign out everywhere else") and returns how many it ended.
func (s *Session) EndOtherSessions() (int, error) {
	p, err := s.Principal()
	if err != nil || p == "" {
		return 0, err
	}
	q := s.q
	return q.m.endSessionsOf(q.unit.Context(), p, q.unit.Handle())
}

// Gone reports whether the request's cookie named a session that no
// longer exists: ended (Destroy elsewhere, EndSessionsOf,
// EndOtherSessions, an operator), expired, or regenerated away. handle is
// that session's handle (SessionInfo.Handle), so an app that noted why
// it ended a session can tell the visitor. It costs the same store read
// as any first use of the session.
func (s *Session) Gone() (handle string, gone bool, err error) { return s.q.unit.Gone() }

// Handle returns a name for the session that cannot be used as a cookie
// (its store ID), for logs and SessionInfo; "" before it is stored.
func (s *Session) Handle() string { return s.q.unit.Handle() }

// userCache is what Session.User found, once per request.
type userCache struct {
	loaded bool
	value  any
	json   []byte
}

// User loads the user the session's principal names into dst, once per
// request: from the session record when the store joins users in
// (store.Record.User, decoded as JSON into dst), otherwise through
// Config.LoadUser (dst must then point to the type it returns, or be a
// *any). found is false when the session has no principal or the user
// does not exist.
func (s *Session) User(dst any) (found bool, err error) {
	q := s.q
	p, err := s.Principal()
	if err != nil || p == "" {
		return false, err
	}
	c := &q.user
	if !c.loaded {
		if joined, ok := q.unit.User(); ok {
			c.json = joined
		} else if q.m.cfg.LoadUser != nil {
			if c.value, err = q.m.cfg.LoadUser(q.unit.Context(), p); err != nil {
				return false, fmt.Errorf("kit: loading the user: %w", err)
			}
		} else {
			return false, ErrNoUserLoader
		}
		c.loaded = true
	}
	if c.json != nil {
		if err := jsonUnmarshal(c.json, dst); err != nil {
			return false, fmt.Errorf("kit: decoding the joined user: %w", err)
		}
		return true, nil
	}
	if c.value == nil {
		return false, nil
	}
	out := reflect.ValueOf(dst)
	val := reflect.ValueOf(c.value)
	if out.Kind() != reflect.Pointer || out.IsNil() {
		return false, fmt.Errorf("kit: User needs a non-nil pointer, got %T", dst)
	}
	switch {
	case val.Type().AssignableTo(out.Elem().Type()):
		out.Elem().Set(val)
	case val.Kind() == reflect.Pointer && val.Elem().Type().AssignableTo(out.Elem().Type()):
		out.Elem().Set(val.Elem())
	default:
		return false, fmt.Errorf("kit: User into %T, but Config.LoadUser returned %T", dst, c.value)
	}
	return true, nil
}

// Request returns the request the session belongs to, as the handler
// sees it.
func (s *Session) Request() *http.Request { return s.q.r }

var jsonUnmarshal = json.Unmarshal
