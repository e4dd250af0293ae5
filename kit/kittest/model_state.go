package kittest

import (
	"cmp"
	"fmt"
	"github.com/tabkit/tabkit/kit"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/tabkit/tabkit/tabs"
)

// The reference model: plain maps of what each browser's session holds,
// what the browser's tabs show and which cookie it has. It says what the
// kit promises, not how the kit does it.

// mKey names a value: kit.Tab -1 is the session-wide namespace. A flash list
// is the value named "~" + its key.
type mKey struct {
	Tab  int64
	Name string
}

const mSessionWide = -1

func (k mKey) String() string {
	if k.Tab == mSessionWide {
		return "s:" + k.Name
	}
	return fmt.Sprintf("t%d:%s", k.Tab, k.Name)
}

// mVal is a value: a list of items, and when it expires (zero: never).
type mVal struct {
	List     []string
	Deadline time.Time
}

func (v mVal) String() string {
	s := "[" + strings.Join(v.List, " ") + "]"
	if !v.Deadline.IsZero() {
		s += " until " + v.Deadline.Format("15:04:05")
	}
	return s
}

// mResolve is a value the model knows only up to the order of items that
// raced: Prefix, then Rest in an order the store decides, and any of May.
type mResolve struct {
	Prefix, Rest, May []string
	Deadline          time.Time
}

// check says whether list is a value r allows.
func (r mResolve) check(list []string, found bool) bool {
	if !found {
		return len(r.Prefix)+len(r.Rest) == 0
	}
	if !isPrefix(r.Prefix, list) {
		return false
	}
	tail := list[len(r.Prefix):]
	extra := slices.DeleteFunc(slices.Clone(tail), func(s string) bool { return slices.Contains(r.Rest, s) })
	for i, s := range extra {
		if !slices.Contains(r.May, s) || slices.Contains(extra[i+1:], s) {
			return false
		}
	}
	return sameItems(slices.DeleteFunc(slices.Clone(tail), func(s string) bool { return slices.Contains(extra, s) }), r.Rest)
}

// mSess is a session as the model sees it.
type mSess struct {
	token   string
	lineage int
	values  map[mKey]mVal
	// resolve holds values known up to order, settled by the next look
	// at the store.
	resolve map[mKey]mResolve
	// tabs is the tab table: each open tab's last-seen time. kit.Tab 0 has an
	// entry only once it held a value.
	tabs    map[uint32]time.Time
	nextTab uint32
	notices []notice
	created time.Time
	// Deadlines and last-seen time, as the store last showed them.
	lastSeen, idleDeadline, absDeadline time.Time
}

func newMSess(token string, lineage int, now time.Time) *mSess {
	return &mSess{
		token: token, lineage: lineage,
		values:  make(map[mKey]mVal),
		resolve: make(map[mKey]mResolve),
		tabs:    make(map[uint32]time.Time),
		nextTab: 1,
		created: now, lastSeen: now,
		idleDeadline: now.Add(mIdle), absDeadline: now.Add(mLifetime),
	}
}

func (s *mSess) clone() *mSess {
	c := *s
	c.values = maps.Clone(s.values)
	c.resolve = maps.Clone(s.resolve)
	c.tabs = maps.Clone(s.tabs)
	c.notices = slices.Clone(s.notices)
	return &c
}

func (s *mSess) expired(now time.Time) bool {
	at := s.idleDeadline
	if at.IsZero() || !s.absDeadline.IsZero() && s.absDeadline.Before(at) {
		at = s.absDeadline
	}
	return !at.IsZero() && !now.Before(at)
}

// stale reports whether tab n has an entry that idled out: it is closed,
// though the store may not have removed it yet.
func (s *mSess) stale(n uint32, now time.Time) bool {
	seen, ok := s.tabs[n]
	return ok && now.Sub(seen) > mTabIdle
}

// tabOpen reports whether a request may use tab n. kit.Tab 0 always may.
func (s *mSess) tabOpen(n uint32, now time.Time) bool {
	if n == 0 {
		return true
	}
	seen, ok := s.tabs[n]
	return ok && now.Sub(seen) <= mTabIdle
}

func (s *mSess) get(k mKey, now time.Time) (mVal, bool) {
	v, ok := s.values[k]
	if !ok || !v.Deadline.IsZero() && !now.Before(v.Deadline) {
		return mVal{}, false
	}
	return v, true
}

func (s *mSess) put(k mKey, v mVal, now time.Time) {
	if k.Tab == 0 {
		if _, ok := s.tabs[0]; !ok {
			s.tabs[0] = now
		}
	}
	delete(s.resolve, k)
	s.values[k] = v
}

// putResolve records a value known up to the order of its items.
func (s *mSess) putResolve(k mKey, r mResolve, now time.Time) {
	s.put(k, mVal{}, now)
	delete(s.values, k)
	s.resolve[k] = r
}

func (s *mSess) del(k mKey) {
	delete(s.values, k)
	delete(s.resolve, k)
}

// tabEmpty reports whether tab n holds no value.
func (s *mSess) tabEmpty(n uint32, now time.Time) bool {
	for k := range s.values {
		if k.Tab == int64(n) {
			if _, ok := s.get(k, now); ok {
				return false
			}
		}
	}
	for k := range s.resolve {
		if k.Tab == int64(n) {
			return false
		}
	}
	return true
}

func (s *mSess) dropTab(n uint32) {
	delete(s.tabs, n)
	for k := range s.values {
		if k.Tab == int64(n) {
			delete(s.values, k)
		}
	}
	for k := range s.resolve {
		if k.Tab == int64(n) {
			delete(s.resolve, k)
		}
	}
}

func (s *mSess) purge(now time.Time) {
	for k := range s.values {
		if _, ok := s.get(k, now); !ok {
			delete(s.values, k)
		}
	}
}

// openTabs lists the open tabs, tab 0 first.
func (s *mSess) openTabs(now time.Time) []uint32 {
	list := []uint32{0}
	for n := range s.tabs {
		if n != 0 && s.tabOpen(n, now) {
			list = append(list, n)
		}
	}
	slices.Sort(list)
	return list
}

// noTab is no tab number: tabs stay below tabs.DefaultMaxID.
const noTab = ^uint32(0)

// evict closes open tabs until at most mMaxTabs are open (tab 0
// counts), sparing keep: tabs without data first, then the least
// recently seen, inUse (the tab making the request) last of its kind.
// Closed tabs that idled out do not count.
func (s *mSess) evict(keep, inUse uint32, now time.Time, idled bool) []uint32 {
	open := s.openTabs(now)
	if idled {
		// As the kit does: every entry counts, idled out or not.
		open = tabNumbers(s.tabs)
		if _, ok := s.tabs[0]; !ok {
			open = append(open, 0)
		}
	}
	count := len(open)
	if count <= mMaxTabs {
		return nil
	}
	victims := slices.DeleteFunc(slices.Clone(open), func(n uint32) bool { return n == 0 || n == keep })
	slices.SortFunc(victims, func(a, b uint32) int {
		if ea, eb := s.tabEmpty(a, now), s.tabEmpty(b, now); ea != eb {
			if ea {
				return -1
			}
			return 1
		}
		// The tab making the request goes last of its kind.
		if ua, ub := a == inUse, b == inUse; ua != ub {
			if ub {
				return -1
			}
			return 1
		}
		if c := s.tabs[a].Compare(s.tabs[b]); c != 0 {
			return c
		}
		return cmp.Compare(a, b)
	})
	var closed []uint32
	for _, n := range victims {
		if count <= mMaxTabs {
			break
		}
		s.dropTab(n)
		closed = append(closed, n)
		count--
	}
	return closed
}

// openFresh hands out the next tab number, evicting past mMaxTabs;
// inUse is the tab asking, or noTab.
func (s *mSess) openFresh(now time.Time, inUse uint32, idled bool) (uint32, []uint32) {
	n := s.nextTab
	s.nextTab++
	s.tabs[n] = now
	return n, s.evict(n, inUse, now, idled)
}

// reuse picks the tab a bare or stale visit lands in: the newest open
// tab that holds nothing, else a fresh one. With idled, tabs that idled
// out but are still in the table count too, as the kit does.
func (s *mSess) reuse(now time.Time, idled, evictIdled bool) (uint32, []uint32) {
	best, found := uint32(0), false
	candidates := s.openTabs(now)
	if idled {
		candidates = append(tabNumbers(s.tabs), 0)
		slices.Sort(candidates)
	}
	for _, n := range candidates {
		if s.tabEmpty(n, now) {
			best, found = n, true
		}
	}
	if !found {
		return s.openFresh(now, noTab, evictIdled)
	}
	if _, ok := s.tabs[best]; ok {
		s.tabs[best] = now
	}
	return best, nil
}

func (s *mSess) notify(tab uint32, message string) {
	s.notices = slices.DeleteFunc(s.notices, func(n notice) bool { return uint32(n.Tab) == tab })
	s.notices = append(s.notices, notice{Tab: tabs.ID(tab), Message: message})
	if len(s.notices) > kit.MaxNotices {
		s.notices = s.notices[len(s.notices)-kit.MaxNotices:]
	}
}

// notice returns tab's notice, "" when none.
func (s *mSess) notice(tab uint32) string {
	for _, n := range s.notices {
		if uint32(n.Tab) == tab {
			return n.Message
		}
	}
	return ""
}

func (s *mSess) takeNotice(tab uint32, message string) {
	s.notices = slices.DeleteFunc(s.notices, func(n notice) bool { return uint32(n.Tab) == tab && n.Message == message })
}

// mBrowser is a browser: the cookie it holds, what its pages show, and
// the tokens it held that must be dead.
type mBrowser struct {
	token string
	pages [mPages]uint32
	dead  []string
}

const mMaxDead = 8

func (b *mBrowser) addDead(token string) {
	if token == "" || slices.Contains(b.dead, token) {
		return
	}
	b.dead = append(b.dead, token)
	if len(b.dead) > mMaxDead {
		b.dead = b.dead[1:]
	}
}

// mUse records which sessions and tabs requests used successfully in a
// step, whose last-seen times must then be fresh.
type mUse struct {
	session bool
	tabs    map[uint32]bool
}

// mModel is the whole reference model.
type mModel struct {
	now      time.Time
	a        adapter
	fork     kit.ForkPolicy
	browsers [mBrowsers]*mBrowser
	// sessions holds the sessions browsers hold, by token.
	sessions map[string]*mSess
	lineages int
	// tokens holds every token ever handed out, which must never repeat.
	tokens map[string]bool
	// moved holds when each token a sign-in moved away died: for
	// store.MovedGrace after, requests carrying it get 409 and no cookie.
	moved map[string]time.Time
	use   map[string]*mUse
	relax map[string]bool
	// stats counts what the run exercised, for the log.
	stats map[string]int
}

func (m *mModel) count(what string) {
	if m.stats == nil {
		m.stats = make(map[string]int)
	}
	m.stats[what]++
}

func newMModel(a adapter, fork kit.ForkPolicy, relax map[string]bool) *mModel {
	m := &mModel{now: mStart, a: a, fork: fork, sessions: make(map[string]*mSess), tokens: make(map[string]bool), relax: relax}
	for i := range m.browsers {
		m.browsers[i] = &mBrowser{}
	}
	return m
}

// live returns the session browser b holds, nil when it holds none that
// lives.
func (m *mModel) live(b int) *mSess {
	s := m.sessions[m.browsers[b].token]
	if s == nil || s.expired(m.now) {
		return nil
	}
	return s
}

// expire forgets sessions past their deadlines; their tokens must stay
// dead.
func (m *mModel) expire() {
	for _, b := range m.browsers {
		if s := m.sessions[b.token]; s != nil && s.expired(m.now) {
			if s.absDeadline.After(m.now) {
				m.count("session expired (idle)")
			} else {
				m.count("session expired (lifetime)")
			}
			delete(m.sessions, b.token)
			b.addDead(b.token)
		}
	}
}

func (m *mModel) used(token string, tab uint32, hasTab bool) {
	if m.use == nil {
		m.use = make(map[string]*mUse)
	}
	u := m.use[token]
	if u == nil {
		u = &mUse{tabs: make(map[uint32]bool)}
		m.use[token] = u
	}
	u.session = true
	if hasTab {
		u.tabs[tab] = true
	}
}

// mFail is a broken invariant.
type mFail struct {
	inv string
	msg string
}

func (f *mFail) Error() string { return f.inv + ": " + f.msg }

func failf(inv, format string, args ...any) *mFail {
	return &mFail{inv: inv, msg: fmt.Sprintf(format, args...)}
}

// The invariants, by the names failures carry.
const (
	invStatus      = "status"       // an answer the kit may not give
	invLostWrite   = "lost-write"   // an acknowledged write is not where it should be
	invLostSession = "lost-session" // a browser no longer holds its session
	invCrossTab    = "cross-tab"    // a read saw another tab's or browser's data
	invDeadToken   = "dead-token"   // a destroyed, regenerated-away or expired token answered
	invMaxTabs     = "max-tabs"     // a tab table holds more than MaxTabs open tabs
	invValue       = "value"        // a read or the store disagrees with the model
	invTabs        = "tab-table"    // the tab table disagrees with the model
	invFlash       = "flash"        // a flash shown twice, lost, or in another tab
	invTTL         = "ttl"          // a value's deadline is not what it was given
	invExpiry      = "expiry"       // a session lives or died when it should not
	invTouch       = "touch"        // a used session or tab was not kept alive
	invToken       = "token"        // a token handed out twice
)

func isPrefix(p, list []string) bool {
	return len(p) <= len(list) && slices.Equal(p, list[:len(p)])
}

// sameItems reports whether a and b hold the same items, in any order.
func sameItems(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	x, y := slices.Clone(a), slices.Clone(b)
	slices.Sort(x)
	slices.Sort(y)
	return slices.Equal(x, y)
}

func listString(l []string) string { return "[" + strings.Join(l, " ") + "]" }
