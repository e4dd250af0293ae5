package kittest

import (
	"fmt"
	"github.com/tabkit/tabkit/kit"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/tabkit/tabkit/internal/session"
)

// mKind is what an operation does.
type mKind uint8

const (
	mGet     mKind = iota // read a key
	mNaive                // read a key, append, set it (may answer 409)
	mUpdate               // append atomically
	mSet                  // set a key, unread
	mSetTTL               // set a key with a time to live
	mDelete               // delete a key
	mFlash                // add a flash
	mFlashes              // take the flashes (and, in a tab, the kit's notices)
	mTabsOp               // list the tab table through kit.Session.Tabs
	mFailOp               // set a key and flash, then fail with 400 or 500
	mRegen                // sign in: Regenerate, then set "user"
	mDestroy              // sign out
	mClose                // kit.Tab.Close
	mNewTab               // visit /+/…
	mFork                 // tabs.js forks page P into page Q
	mBare                 // visit a URL without a tab number
	mForged               // visit a tab number the session never handed out
	mReplay               // send a dead token again
	mAdvance              // move the clock
)

var mKindNames = [...]string{"get", "naive", "update", "set", "setttl", "delete", "flash", "flashes", "tabs", "fail",
	"regen", "destroy", "close", "newtab", "fork", "bare", "forged", "replay", "advance"}

func (k mKind) String() string { return mKindNames[k] }

func (k mKind) isData() bool { return k <= mFailOp }

// isGet says the op is a GET: naming a tab that is not open redirects.
func (k mKind) isGet() bool { return k == mGet || k == mFlashes || k == mTabsOp }

// mOp is one operation: which browser and page does what. Ops name pages,
// not tab numbers, so a shrunk sequence still means something.
type mOp struct {
	Kind  mKind
	B     int           // browser
	P     int           // page
	Q     int           // mFork: the page that becomes the copy
	Scope byte          // 's' session-wide, 't' the page's tab
	Key   string        // "a", "b", "c"
	TTL   time.Duration // mSetTTL
	Adv   time.Duration // mAdvance
	// Forge is, for mForged, how far past the session's next tab number
	// to go (-1: a number too large to be a tab); for mReplay, which
	// request to replay with; for mFailOp, 0 for a 400, 1 for a 500.
	Forge int
	ID    int // names the item the op writes
}

func (o mOp) item() string { return fmt.Sprintf("b%d.%d", o.B, o.ID) }

// failStatus is what an mFailOp's handler fails with.
func (o mOp) failStatus() int {
	if o.Forge%2 == 1 {
		return http.StatusInternalServerError
	}
	return http.StatusBadRequest
}

func (o mOp) String() string {
	switch o.Kind {
	case mAdvance:
		return "advance " + o.Adv.String()
	case mReplay:
		return fmt.Sprintf("b%d replay#%d(%d)", o.B, o.ID, o.Forge)
	case mFork:
		return fmt.Sprintf("b%d.p%d fork→p%d", o.B, o.P, o.Q)
	case mForged:
		return fmt.Sprintf("b%d.p%d forged%+d", o.B, o.P, o.Forge)
	case mGet, mNaive, mUpdate, mSet, mDelete:
		return fmt.Sprintf("b%d.p%d %s %c:%s #%d", o.B, o.P, o.Kind, o.Scope, o.Key, o.ID)
	case mFailOp:
		return fmt.Sprintf("b%d.p%d fail%d %c:%s #%d", o.B, o.P, o.failStatus(), o.Scope, o.Key, o.ID)
	case mSetTTL:
		return fmt.Sprintf("b%d.p%d setttl %c:%s %v #%d", o.B, o.P, o.Scope, o.Key, o.TTL, o.ID)
	case mFlash, mFlashes:
		return fmt.Sprintf("b%d.p%d %s %c #%d", o.B, o.P, o.Kind, o.Scope, o.ID)
	}
	return fmt.Sprintf("b%d.p%d %s #%d", o.B, o.P, o.Kind, o.ID)
}

// mStep is a round of ops released together, or one clock move.
type mStep []mOp

func (s mStep) String() string {
	parts := make([]string, len(s))
	for i, o := range s {
		parts[i] = o.String()
	}
	return strings.Join(parts, " | ")
}

// mEff is what an op amounts to in the state it meets.
type mEff uint8

const (
	effNop       mEff = iota // nothing reaches the session (a 404)
	effRead                  // a data op reading an open tab
	effWrite                 // a data op writing an open tab
	effStaleGet              // a GET naming a tab that is not open: redirected
	effStalePost             // a POST naming a tab that is not open: 409
	effRegen
	effDestroy
	effClose
	effOpen // newtab, fork, bare, forged: a tab is opened or reused
	effReplay
)

func (e mEff) structural() bool {
	return e == effRegen || e == effDestroy || e == effClose || e == effOpen || e == effStaleGet
}

// mItem is an op of a round with what it met and got.
type mItem struct {
	op   mOp
	eff  mEff
	tab  uint32 // the tab its page showed
	req  mRequest
	resp *mResponse
	// replayed is the token a replay sent.
	replayed string
	// mayFail says something raced it that may make it answer 409.
	mayFail bool
}

func (it *mItem) ok() bool { return it.resp.status == http.StatusOK }

// commits says an acknowledged op must have committed, its touch with
// it; a read's touch is best effort.
func (it *mItem) commits() bool {
	switch it.op.Kind {
	case mNaive, mUpdate, mSet, mSetTTL, mDelete, mFlash:
		return true
	case mFlashes:
		r := it.resp.reply
		return r != nil && len(r.Flashes)+len(r.Notices) > 0
	}
	return false
}

func (it *mItem) String() string {
	return fmt.Sprintf("%s: %s → %s", it.op, it.req, it.resp)
}

func (it *mItem) key() mKey {
	name := it.op.Key
	if it.op.Kind == mFlash || it.op.Kind == mFlashes {
		name = "~" + mFlashName
	}
	if it.op.Scope == 't' {
		return mKey{Tab: int64(it.tab), Name: name}
	}
	return mKey{Tab: mSessionWide, Name: name}
}

// classify says what op amounts to now.
func (m *mModel) classify(op mOp) (mEff, uint32) {
	b := m.browsers[op.B]
	s := m.live(op.B)
	n := b.pages[op.P]
	open := n == 0 || s != nil && s.tabOpen(n, m.now)
	switch op.Kind {
	case mGet, mFlashes, mTabsOp:
		if !open {
			return effStaleGet, n
		}
		if op.Kind == mFlashes {
			return effWrite, n
		}
		return effRead, n
	case mNaive, mUpdate, mSet, mSetTTL, mDelete, mFlash, mFailOp:
		if !open {
			return effStalePost, n
		}
		return effWrite, n
	case mRegen, mDestroy, mClose, mFork:
		if !open {
			return effStalePost, n
		}
		return map[mKind]mEff{mRegen: effRegen, mDestroy: effDestroy, mClose: effClose, mFork: effOpen}[op.Kind], n
	case mNewTab, mBare:
		return effOpen, n
	case mForged:
		if op.Forge < 0 && m.a == echoAdapter {
			return effNop, n // not a tab and not a route: Echo's 404
		}
		return effOpen, n
	case mReplay:
		return effReplay, n
	}
	panic("model: unknown op " + op.Kind.String())
}

// request builds the HTTP request of an op.
func (m *mModel) request(it *mItem) mRequest {
	op := it.op
	b := m.browsers[op.B]
	prefix := "/" + strconv.FormatUint(uint64(it.tab), 10)
	q := mRequest{token: b.token}
	form := func() url.Values {
		v := url.Values{"scope": {string(op.Scope)}, "key": {op.Key}, "item": {op.item()}}
		if op.Kind == mSetTTL {
			v.Set("ttl", strconv.Itoa(int(op.TTL/time.Second)))
		}
		return v
	}
	get := func(path string) {
		q.method, q.path = http.MethodGet, path
	}
	post := func(path string) {
		q.method, q.path, q.form = http.MethodPost, path, form()
		if !op.Kind.isData() {
			q.form = url.Values{"item": {op.item()}}
		}
	}
	switch op.Kind {
	case mGet:
		get(prefix + "/m/get?" + url.Values{"scope": {string(op.Scope)}, "key": {op.Key}}.Encode())
	case mFlashes:
		get(prefix + "/m/flashes?scope=" + string(op.Scope))
	case mTabsOp:
		get(prefix + "/m/tabs")
	case mNaive:
		post(prefix + "/m/naive")
	case mUpdate:
		post(prefix + "/m/update")
	case mSet, mSetTTL:
		post(prefix + "/m/set")
	case mDelete:
		post(prefix + "/m/del")
	case mFlash:
		post(prefix + "/m/flash")
	case mFailOp:
		post(prefix + "/m/fail")
		q.form.Set("status", strconv.Itoa(op.failStatus()))
	case mRegen:
		post(prefix + "/m/regen")
	case mDestroy:
		post(prefix + "/m/destroy")
	case mClose:
		post(prefix + "/m/close")
	case mFork:
		q.method, q.path, q.fork = http.MethodPost, prefix+kit.ForkPath, true
	case mNewTab:
		get("/+/m/get?scope=t&key=a")
	case mBare:
		get("/m/get?scope=t&key=a")
	case mForged:
		if op.Forge < 0 {
			get(mHugeTabPath + "/m/get?scope=t&key=a")
			break
		}
		next := uint32(1)
		if s := m.live(op.B); s != nil {
			next = s.nextTab
		}
		get("/" + strconv.FormatUint(uint64(next)+uint64(op.Forge), 10) + "/m/get?scope=t&key=a")
	case mReplay:
		it.replayed = session.NewToken() // never handed out
		if len(b.dead) > 0 {
			it.replayed = b.dead[op.ID%len(b.dead)]
		}
		q.token = it.replayed
		switch op.Forge % 3 {
		case 0:
			get("/0/m/get?scope=s&key=user")
		case 1:
			get("/1/m/get?scope=t&key=a")
		default:
			post("/0/m/naive")
			q.form = url.Values{"scope": {"s"}, "key": {"a"}, "item": {op.item()}}
		}
	}
	return q
}

// validate says whether the ops of browser b in one round are ones the
// model can judge: ops whose outcome does not depend on an order the
// test cannot observe.
func (m *mModel) validate(items []*mItem) error {
	var ops []*mItem
	for _, it := range items {
		if it.eff != effReplay && it.eff != effNop {
			ops = append(ops, it)
		}
	}
	if len(ops) == 0 {
		return nil
	}
	b := ops[0].op.B
	s := m.live(b)
	if len(ops) > 1 && (s == nil || s.stale(0, m.now)) {
		// Without a session every write makes one of its own, and tab
		// 0's idled-out data goes or stays by which request is first.
		return fmt.Errorf("several ops of a browser without a live session or with tab 0 idled out")
	}
	var structural []*mItem
	for _, it := range ops {
		if it.eff.structural() {
			structural = append(structural, it)
		}
	}
	if len(structural) > 1 {
		if len(structural) == 2 && len(ops) == 2 && structural[0].eff != structural[1].eff &&
			(structural[0].eff == effRegen || structural[0].eff == effDestroy) &&
			(structural[1].eff == effRegen || structural[1].eff == effDestroy) {
			return nil
		}
		return fmt.Errorf("several structural ops")
	}
	if len(structural) == 1 {
		x := structural[0]
		for _, it := range ops {
			if it == x {
				continue
			}
			switch x.eff {
			case effOpen, effStaleGet:
				// Eviction and reuse depend on every tab's data and
				// last-seen time: companions stay out of the tabs.
				if it.eff != effRead && it.eff != effWrite || it.op.Scope != 's' || it.tab != 0 || it.op.Kind == mTabsOp {
					return fmt.Errorf("an op in a tab beside an opening")
				}
			case effClose:
				if it.tab == x.tab && (x.tab == 0 || it.eff != effWrite || it.op.Kind.isGet()) || it.op.Kind == mTabsOp || it.eff == effStaleGet {
					return fmt.Errorf("an op in a closing tab")
				}
			case effRegen, effDestroy:
				if it.op.Kind == mTabsOp {
					return fmt.Errorf("tabs beside a regenerate")
				}
			}
		}
		if x.op.Kind == mFork && x.op.P == x.op.Q {
			return fmt.Errorf("fork into its own page")
		}
	}
	if m.relax["stale-revive"] && s != nil && len(ops) > 1 {
		for _, it := range ops {
			if _, inTable := s.tabs[it.tab]; (it.eff == effStaleGet || it.eff == effStalePost) && inTable {
				// It revives the tab, racing the upkeep of the others.
				return fmt.Errorf("an op beside one that revives its tab")
			}
		}
	}
	if (m.relax["reuse-stale"] || m.relax["evict-stale"]) && s != nil && len(ops) > 1 && len(structural) == 1 &&
		(structural[0].eff == effOpen || structural[0].eff == effStaleGet) {
		for n := range s.tabs {
			if s.stale(n, m.now) {
				// The kit counts idled-out tabs, which the upkeep of the
				// others may remove first.
				return fmt.Errorf("an opening beside others, with idled-out tabs")
			}
		}
	}
	// Ops on one key race only in ways the model can settle: appends with
	// reads, or one unread write with reads; flashes taken once.
	type counts struct{ appends, blind, takes int }
	byKey := make(map[mKey]*counts)
	takes := make(map[int64]int)
	for _, it := range ops {
		if it.eff != effRead && it.eff != effWrite || it.op.Kind == mTabsOp {
			continue
		}
		k := it.key()
		c := byKey[k]
		if c == nil {
			c = &counts{}
			byKey[k] = c
		}
		switch it.op.Kind {
		case mNaive, mUpdate:
			c.appends++
		case mSet, mSetTTL, mDelete, mFailOp:
			c.blind++
		case mFlashes:
			c.takes++
			if it.op.Scope == 't' {
				takes[int64(it.tab)]++
			}
		}
		if c.blind > 1 || c.blind == 1 && c.appends > 0 || c.takes > 2 {
			return fmt.Errorf("racing writes on %v", k)
		}
	}
	for _, n := range takes {
		if n > 2 {
			return fmt.Errorf("notices taken three times")
		}
	}
	return nil
}
