package kittest

import (
	"encoding/json"
	"fmt"
	"github.com/tabkit/tabkit/kit"
	"github.com/tabkit/tabkit/store"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/tabkit/tabkit/tabs"
)

// Judging a round: the answers of its requests against the model, and
// the model moved on to what they did.

// apply checks the answers of one round against the model and moves the
// model on. items are every op of the round, with their answers.
func (m *mModel) apply(items []*mItem) *mFail {
	m.use = nil
	byBrowser := make(map[int][]*mItem)
	for _, it := range items {
		if it.resp.err != nil {
			return failf(invStatus, "%s: %v", it, it.resp.err)
		}
		m.count(fmt.Sprintf("%s %d", it.op.Kind, it.resp.status))
		if it.eff == effReplay {
			if f := m.checkReplay(it); f != nil {
				return f
			}
			continue
		}
		byBrowser[it.op.B] = append(byBrowser[it.op.B], it)
	}
	for b := range mBrowsers {
		if len(byBrowser[b]) > 0 {
			if f := m.applyBrowser(b, byBrowser[b]); f != nil {
				return f
			}
		}
	}
	return nil
}

// checkReplay checks that a dead or never-issued token gets nothing.
func (m *mModel) checkReplay(it *mItem) *mFail {
	r := it.resp
	if r.cookie != nil && *r.cookie == it.replayed {
		return failf(invDeadToken, "%s: the dead token was handed back", it)
	}
	if at, ok := m.moved[it.replayed]; ok && m.now.Sub(at) < store.MovedGrace && r.status == http.StatusConflict {
		// Moved by a sign-in a moment ago: the request is told so, and
		// neither gets a session nor loses its cookie. (A sign-out with
		// the old token ends that early; then the answers below hold.)
		if r.cookie != nil {
			return failf(invDeadToken, "%s: a token a sign-in just moved away must get no cookie", it)
		}
		return nil
	}
	switch it.op.Forge % 3 {
	case 0:
		if r.status != http.StatusOK || r.reply == nil || r.reply.Existed || r.reply.Found {
			return failf(invDeadToken, "%s: a dead token must find no session", it)
		}
	case 1:
		if r.status != http.StatusSeeOther || r.location != "/0/m/get?scope=t&key=a" {
			return failf(invDeadToken, "%s: a dead token's tab must send the browser to tab 0", it)
		}
	default:
		if r.status != http.StatusOK || r.reply == nil || r.reply.Existed || len(r.reply.Read) != 0 ||
			r.cookie == nil || *r.cookie == "" {
			return failf(invDeadToken, "%s: a write with a dead token must start a new session", it)
		}
		if m.tokens[*r.cookie] {
			return failf(invToken, "%s: token handed out twice", it)
		}
		m.tokens[*r.cookie] = true // an orphan nobody holds
	}
	return nil
}

// landing is where an acknowledged write went.
type landing struct {
	it      *mItem
	lineage int
}

// roundOf is the state of one browser's round while it is judged.
type roundOf struct {
	m     *mModel
	b     int
	start string // the cookie the browser sent
	s     *mSess // the live session at the start, nil for none
	work  *mSess // s as the round changes it
	made  map[string]*mSess
	lands []landing
}

func (m *mModel) applyBrowser(b int, items []*mItem) *mFail {
	br := m.browsers[b]
	rd := &roundOf{m: m, b: b, start: br.token, s: m.live(b), made: make(map[string]*mSess)}
	if rd.s != nil {
		rd.work = rd.s.clone()
	}
	for _, it := range items {
		if it.eff == effNop {
			if it.resp.status != http.StatusNotFound || it.resp.cookie != nil {
				return failf(invStatus, "%s: want a 404 that touches nothing", it)
			}
		}
		if it.resp.reply != nil {
			if f := checkOwnItems(it); f != nil {
				return f
			}
		}
	}
	var ops []*mItem
	for _, it := range items {
		if it.eff != effNop {
			ops = append(ops, it)
		}
	}
	if len(ops) == 0 {
		return nil
	}
	var regen, destroy, structural *mItem
	for _, it := range ops {
		switch it.eff {
		case effRegen:
			regen = it
		case effDestroy:
			destroy = it
		}
		if it.eff.structural() {
			structural = it
		}
	}
	destroyed := false // a sign-out found the session: what raced it may go
	switch {
	case rd.s == nil:
		for _, it := range ops {
			if f := rd.noSession(it); f != nil {
				return f
			}
		}
	case regen != nil || destroy != nil:
		var before, after []*mItem
		for _, it := range ops {
			if it == regen || it == destroy {
				continue
			}
			if rd.loadedLive(it) {
				before = append(before, it)
			} else {
				m.count("request after a sign-in/out it raced")
				after = append(after, it)
			}
		}
		if f := rd.data(before, true); f != nil {
			return f
		}
		if regen != nil && destroy != nil {
			f, d := rd.regenDestroy(regen, destroy)
			if f != nil {
				return f
			}
			destroyed = d
		} else if regen != nil {
			if f := rd.regen(regen, false); f != nil {
				return f
			}
		} else {
			if !destroy.ok() || destroy.resp.reply == nil || !destroy.resp.reply.Existed {
				return failf(invStatus, "%s: sign-out of a live session must answer 200", destroy)
			}
			destroyed = true
			rd.kill()
		}
		for _, it := range after {
			if f := rd.noSession(it); f != nil {
				return f
			}
		}
	case structural != nil && structural.eff == effClose:
		var rest, inTab []*mItem
		for _, it := range ops {
			switch {
			case it == structural:
			case it.tab == structural.tab && it.eff == effWrite && it.op.Scope == 't':
				inTab = append(inTab, it)
			case it.tab == structural.tab && it.eff == effWrite:
				// Session-wide: it lands if it ran before the close,
				// and is refused after it.
				it.mayFail = true
				rest = append(rest, it)
			default:
				rest = append(rest, it)
			}
		}
		if f := rd.data(rest, false); f != nil {
			return f
		}
		for _, it := range inTab {
			// Before the close it landed and went with the tab; after
			// it, the tab is gone: either way nothing stays.
			ok := it.resp.status == http.StatusOK && it.op.Kind != mFailOp || it.resp.status == http.StatusConflict ||
				it.op.Kind == mFailOp && it.resp.status == it.op.failStatus()
			if !ok || it.resp.cookie != nil {
				return failf(invStatus, "%s: a write racing its tab's close must answer 200 or 409", it)
			}
		}
		if f := rd.close(structural); f != nil {
			return f
		}
	case structural != nil:
		var rest []*mItem
		for _, it := range ops {
			if it != structural {
				rest = append(rest, it)
			}
		}
		if f := rd.data(rest, false); f != nil {
			return f
		}
		if f := rd.open(structural); f != nil {
			return f
		}
	default:
		if f := rd.data(ops, false); f != nil {
			return f
		}
	}
	return rd.finish(items, destroyed || regen != nil && rd.m.relax["regen-race"])
}

// checkOwnItems checks that a reply holds only items its browser wrote
// and that it ran in the page's tab.
func checkOwnItems(it *mItem) *mFail {
	r := it.resp.reply
	own := fmt.Sprintf("b%d.", it.op.B)
	for _, list := range [][]string{r.Value, r.Read, r.Flashes} {
		for _, item := range list {
			if !strings.HasPrefix(item, own) {
				return failf(invCrossTab, "%s: item %s of another browser", it, item)
			}
		}
	}
	if r.Tab != it.tab && it.eff != effReplay {
		return failf(invCrossTab, "%s: ran in tab %d, the page shows tab %d", it, r.Tab, it.tab)
	}
	return nil
}

// loadedLive says whether a request of a round with a sign-in or
// sign-out found the session live when it loaded it.
func (rd *roundOf) loadedLive(it *mItem) bool {
	if it.resp.reply != nil {
		return it.resp.reply.Existed
	}
	return it.resp.cookie == nil
}

// kill ends the round's session: its token must be dead from now on.
func (rd *roundOf) kill() {
	rd.m.browsers[rd.b].addDead(rd.s.token)
	rd.work = nil
}

// newSession registers a session a response created under token.
func (rd *roundOf) newSession(it *mItem) (*mSess, *mFail) {
	r := it.resp
	if r.cookie == nil || *r.cookie == "" {
		return nil, failf(invStatus, "%s: a new session must come with its cookie", it)
	}
	token := *r.cookie
	if rd.m.tokens[token] || token == rd.start {
		return nil, failf(invToken, "%s: token %s handed out before", it, shortToken(token))
	}
	rd.m.tokens[token] = true
	rd.m.lineages++
	s := newMSess(token, rd.m.lineages, rd.m.now)
	rd.made[token] = s
	rd.m.used(token, it.tab, true)
	return s, nil
}

// noSession judges an op that met no live session: after a sign-out or
// sign-in it raced, or in a browser that has none.
func (rd *roundOf) noSession(it *mItem) *mFail {
	m, r, op := rd.m, it.resp, it.op
	noCookie := func() *mFail {
		if r.cookie != nil && *r.cookie != "" {
			return failf(invStatus, "%s: nothing was stored, yet a cookie was set", it)
		}
		return nil
	}
	fresh := func() *mFail {
		if r.reply != nil && r.reply.Existed {
			return failf(invDeadToken, "%s: found a session the cookie cannot name", it)
		}
		return nil
	}
	eff := it.eff
	if it.tab != 0 && eff != effOpen {
		// Without a session only tab 0 is open.
		eff = effStalePost
		if it.req.method == http.MethodGet {
			eff = effStaleGet
		}
	}
	switch eff {
	case effStalePost:
		if r.status != http.StatusConflict {
			return failf(invStatus, "%s: a POST to a tab the session lacks must answer 409", it)
		}
		return noCookie()
	case effStaleGet, effOpen:
		if op.Kind == mFork {
			if r.status != http.StatusConflict {
				return failf(invStatus, "%s: forking without a session must answer 409", it)
			}
			return noCookie()
		}
		want := "/0" + redirectRest(it.req.path)
		if r.status != http.StatusSeeOther || r.location != want {
			return failf(invStatus, "%s: want a 303 to %s", it, want)
		}
		m.browsers[rd.b].pages[op.P] = 0
		return noCookie()
	}
	if op.Kind == mFailOp {
		if r.status != op.failStatus() {
			return failf(invStatus, "%s: want %d", it, op.failStatus())
		}
		return noCookie()
	}
	if !it.ok() || r.reply == nil {
		if it.eff == effWrite && r.status == http.StatusConflict && rd.s != nil {
			// A request that loaded the session and committed after the
			// sign-in or sign-out moved or deleted it.
			return noCookie()
		}
		return failf(invStatus, "%s: want 200", it)
	}
	if f := fresh(); f != nil {
		return f
	}
	k := it.key()
	switch op.Kind {
	case mGet:
		if r.reply.Found {
			return failf(invDeadToken, "%s: read data without a session", it)
		}
		return noCookie()
	case mFlashes:
		if len(r.reply.Flashes)+len(r.reply.Notices) > 0 {
			return failf(invDeadToken, "%s: flashes without a session", it)
		}
		return noCookie()
	case mTabsOp:
		if !slices.Equal(r.reply.Tabs, []uint32{0}) {
			return failf(invTabs, "%s: a browser without a session has only tab 0", it)
		}
		return noCookie()
	case mDelete, mClose, mDestroy:
		return noCookie()
	case mRegen:
		s, f := rd.newSession(it)
		if f != nil {
			return f
		}
		s.put(mKey{Tab: mSessionWide, Name: "user"}, mVal{List: []string{op.item()}}, m.now)
		rd.lands = append(rd.lands, landing{it, s.lineage})
		return nil
	}
	// A write: it made a session of its own.
	s, f := rd.newSession(it)
	if f != nil {
		return f
	}
	rd.lands = append(rd.lands, landing{it, s.lineage})
	switch op.Kind {
	case mNaive:
		if len(r.reply.Read) != 0 || !slices.Equal(r.reply.Value, []string{op.item()}) {
			return failf(invValue, "%s: a new session holds nothing to read", it)
		}
		s.put(k, mVal{List: []string{op.item()}}, m.now)
	case mUpdate:
		if !slices.Equal(r.reply.Value, []string{op.item()}) {
			return failf(invValue, "%s: a new session holds nothing to update", it)
		}
		s.put(k, mVal{List: []string{op.item()}}, m.now)
	case mSet:
		s.put(k, mVal{List: []string{op.item()}}, m.now)
	case mSetTTL:
		s.put(k, mVal{List: []string{op.item()}, Deadline: m.now.Add(op.TTL)}, m.now)
	case mFlash:
		s.put(k, mVal{List: []string{op.item()}}, m.now)
	default:
		return failf(invStatus, "%s: unexpected op without a session", it)
	}
	return nil
}

// data judges data ops that loaded the live session, in any order: they
// race only in ways validate allows. racing says a sign-in or sign-out
// raced them, so a commit may have found the session gone (409).
func (rd *roundOf) data(items []*mItem, racing bool) *mFail {
	m, w := rd.m, rd.work
	groups := make(map[mKey][]*mItem)
	var order []mKey
	for _, it := range items {
		r := it.resp
		if it.eff == effStalePost {
			if r.status != http.StatusConflict || r.cookie != nil {
				return failf(invStatus, "%s: a POST to a tab that is not open must answer 409", it)
			}
			rd.revive(it.tab)
			continue
		}
		if it.eff == effStaleGet || it.eff.structural() {
			return failf(invStatus, "%s: unexpected op in a round of data", it)
		}
		if r.cookie != nil {
			return failf(invLostSession, "%s: the cookie changed for a request of a live session", it)
		}
		if it.ok() {
			if r.reply == nil {
				return failf(invStatus, "%s: 200 without a reply", it)
			}
			if !r.reply.Existed {
				return failf(invLostSession, "%s: the session was not found", it)
			}
			if !racing || it.commits() {
				// A read's touch is best effort: racing a sign-in, it may
				// find the session moved.
				m.used(w.token, it.tab, true)
			}
		}
		if it.op.Kind == mTabsOp {
			if f := rd.tabsList(it); f != nil {
				return f
			}
			continue
		}
		k := it.key()
		if groups[k] == nil {
			order = append(order, k)
		}
		groups[k] = append(groups[k], it)
	}
	for _, k := range order {
		if f := rd.group(k, groups[k], racing); f != nil {
			return f
		}
	}
	return nil
}

func (rd *roundOf) tabsList(it *mItem) *mFail {
	m, w := rd.m, rd.work
	if !it.ok() {
		return failf(invStatus, "%s: want 200", it)
	}
	got := it.resp.reply.Tabs
	open := w.openTabs(m.now)
	if len(got) > mMaxTabs {
		return failf(invMaxTabs, "%s: %d tabs listed", it, len(got))
	}
	for _, n := range open {
		if !slices.Contains(got, n) {
			return failf(invTabs, "%s: open tab %d not listed (open: %v)", it, n, open)
		}
	}
	for _, n := range got {
		if slices.Contains(open, n) {
			continue
		}
		if w.stale(n, m.now) {
			if !m.relax["stale-listed"] {
				return failf(invTabs, "%s: lists tab %d, which idled out (stale-listed)", it, n)
			}
			continue
		}
		return failf(invTabs, "%s: lists tab %d, which is not open (open: %v)", it, n, open)
	}
	return nil
}

// group judges the ops of a round on one key.
func (rd *roundOf) group(k mKey, items []*mItem, racing bool) *mFail {
	m, w := rd.m, rd.work
	old, had := w.get(k, m.now)
	var reads, appends, blind, flashes, takes []*mItem
	for _, it := range items {
		switch it.op.Kind {
		case mFailOp:
			// It lands nothing: the key keeps its value for every read.
			if it.resp.status != it.op.failStatus() && !(it.resp.status == http.StatusConflict && (racing || it.mayFail)) {
				return failf(invStatus, "%s: want %d", it, it.op.failStatus())
			}
		case mGet:
			reads = append(reads, it)
		case mNaive, mUpdate:
			appends = append(appends, it)
		case mSet, mSetTTL, mDelete:
			blind = append(blind, it)
		case mFlash:
			flashes = append(flashes, it)
		case mFlashes:
			takes = append(takes, it)
		}
	}
	// Which failures an op may answer: 409 when something raced it that
	// can make it fail.
	mayFail := func(it *mItem) bool {
		if racing || it.mayFail {
			return true
		}
		return it.op.Kind == mNaive && len(appends) > 1
	}
	for _, it := range items {
		if it.ok() || it.op.Kind == mFailOp {
			continue
		}
		if it.resp.status == http.StatusConflict && mayFail(it) {
			continue
		}
		return failf(invStatus, "%s: want 200", it)
	}
	if _, pending := w.resolve[k]; pending {
		return failf(invValue, "model: %v unsettled", k)
	}
	for _, it := range reads {
		if !it.ok() {
			continue
		}
		rep := it.resp.reply
		var after []string
		if len(blind) == 1 && blind[0].ok() && blind[0].op.Kind != mDelete {
			after = []string{blind[0].op.item()}
		}
		switch {
		case !rep.Found && (!had || len(blind) == 1 && blind[0].ok() && blind[0].op.Kind == mDelete):
		case rep.Found && had && slices.Equal(rep.Value, old.List):
		case rep.Found && after != nil && slices.Equal(rep.Value, after):
		case rep.Found && len(appends) > 0 && isPrefix(old.List, rep.Value):
			// checked against the final value below
		default:
			return failf(invValue, "%s: read %v (found %v), model holds %v (found %v)", it, listString(rep.Value), rep.Found, old, had)
		}
	}
	switch {
	case len(appends) > 0:
		final := old.List
		var added []string
		naive := false
		for _, it := range appends {
			if !it.ok() {
				continue
			}
			v := it.resp.reply.Value
			if len(v) == 0 || v[len(v)-1] != it.op.item() {
				return failf(invValue, "%s: wrote %v, not ending in its item", it, listString(v))
			}
			if it.op.Kind == mNaive {
				naive = true
				if !slices.Equal(it.resp.reply.Read, v[:len(v)-1]) {
					return failf(invValue, "%s: read %v but wrote %v", it, listString(it.resp.reply.Read), listString(v))
				}
			}
			added = append(added, it.op.item())
			if len(v) > len(final) {
				final = v
			}
		}
		if !isPrefix(old.List, final) || !sameItems(final[len(old.List):], added) {
			return failf(invLostWrite, "key %v: held %v, acknowledged appends %v, but the longest written list is %v", k, old, listString(added), listString(final))
		}
		for _, it := range appends {
			if it.ok() && !isPrefix(it.resp.reply.Value, final) {
				return failf(invLostWrite, "%s: wrote %v, not a prefix of the final %v: an append was lost", it, listString(it.resp.reply.Value), listString(final))
			}
		}
		for _, it := range reads {
			if it.ok() && it.resp.reply.Found && !isPrefix(it.resp.reply.Value, final) && !(had && slices.Equal(it.resp.reply.Value, old.List)) {
				return failf(invValue, "%s: read %v, never a value of %v (final %v)", it, listString(it.resp.reply.Value), k, listString(final))
			}
		}
		if len(added) > 0 {
			deadline := old.Deadline
			if naive {
				deadline = time.Time{}
			}
			w.put(k, mVal{List: slices.Clone(final), Deadline: deadline}, m.now)
			rd.landAll(appends)
		}
	case len(blind) == 1:
		it := blind[0]
		if it.ok() {
			switch it.op.Kind {
			case mSet:
				w.put(k, mVal{List: []string{it.op.item()}}, m.now)
			case mSetTTL:
				w.put(k, mVal{List: []string{it.op.item()}, Deadline: m.now.Add(it.op.TTL)}, m.now)
			case mDelete:
				w.del(k)
			}
			rd.landAll(blind)
		}
	case len(flashes) > 0 || len(takes) > 0:
		var added []string
		for _, it := range flashes {
			if it.ok() {
				added = append(added, it.op.item())
			}
		}
		rd.landAll(flashes)
		var took []*mItem
		for _, it := range takes {
			if it.ok() {
				took = append(took, it)
			}
		}
		// Each flash is shown by the takes that raced for it, or left for
		// the next; never lost. Two pages of one tab answered at the same
		// moment may both show it: a flash is removed with the commit of
		// a page that was answered (kit's Flashes), which is what keeps a
		// failed page from using one up.
		shownBy := make(map[string]*mItem)
		notice := w.notice(uint32(max(k.Tab, 0)))
		var noticeBy *mItem
		for _, it := range took {
			got := it.resp.reply.Flashes
			if len(took) == 1 && !isPrefix(old.List, got) {
				return failf(invFlash, "%s: took %v, but %v were waiting", it, listString(got), listString(old.List))
			}
			for _, item := range got {
				if !slices.Contains(old.List, item) && !slices.Contains(added, item) {
					return failf(invFlash, "%s: took %v, which no acknowledged flash of this namespace added", it, item)
				}
				shownBy[item] = it
			}
			if it.op.Scope == 't' {
				switch {
				case len(it.resp.reply.Notices) == 0 && (notice == "" || len(took) > 1):
				case notice != "" && slices.Equal(it.resp.reply.Notices, []string{notice}):
					noticeBy = it
				default:
					return failf(invFlash, "%s: notices %q, want %q", it, it.resp.reply.Notices, notice)
				}
			}
		}
		if noticeBy != nil {
			w.takeNotice(noticeBy.tab, notice)
		}
		notShown := func(list []string) []string {
			return slices.DeleteFunc(slices.Clone(list), func(s string) bool { return shownBy[s] != nil })
		}
		prefix, rest := old.List, added
		var may []string
		switch len(took) {
		case 0:
		case 1:
			prefix, rest = nil, notShown(added)
		default:
			// Which take removed what depends on their order; what no
			// take showed must still wait, and what one showed may.
			prefix, rest = nil, append(notShown(old.List), notShown(added)...)
			for item := range shownBy {
				may = append(may, item)
			}
		}
		if len(added) > 0 {
			w.put(k, mVal{}, m.now) // a flash in tab 0 gives it its entry
		}
		switch {
		case len(may) > 0:
			w.putResolve(k, mResolve{Rest: rest, May: may}, m.now)
		case len(rest) == 0 && len(prefix) == 0:
			w.del(k)
		case len(rest) <= 1:
			w.put(k, mVal{List: append(slices.Clone(prefix), rest...)}, m.now)
		default:
			w.putResolve(k, mResolve{Prefix: slices.Clone(prefix), Rest: rest}, m.now)
		}
	}
	return nil
}

// revive is what the kit does, and the model accepts under the relax
// switch stale-revive, to a tab that idled out when a request names it:
// the request is refused or redirected, but the tab is touched and so
// open again, with its data.
func (rd *roundOf) revive(tab uint32) {
	if _, ok := rd.work.tabs[tab]; ok && rd.m.relax["stale-revive"] {
		rd.work.tabs[tab] = rd.m.now
	}
}

// landAll notes the acknowledged writes among items as landed in the
// round's session.
func (rd *roundOf) landAll(items []*mItem) {
	for _, it := range items {
		if it.ok() {
			rd.lands = append(rd.lands, landing{it, rd.s.lineage})
		}
	}
}

// regen judges a sign-in that raced other ops of its browser; afterD
// says a sign-out raced it too.
func (rd *roundOf) regen(it *mItem, withDestroy bool) *mFail {
	m, r := rd.m, it.resp
	if !it.ok() {
		if withDestroy && lostToSignOut(it) {
			return nil // the sign-out deleted the session first
		}
		return failf(invStatus, "%s: sign-in of a live session must answer 200", it)
	}
	if r.reply == nil || r.cookie == nil || *r.cookie == "" {
		return failf(invStatus, "%s: a sign-in must set a new cookie", it)
	}
	token := *r.cookie
	if m.tokens[token] || token == rd.start {
		return failf(invToken, "%s: token %s handed out before", it, shortToken(token))
	}
	m.tokens[token] = true
	var s *mSess
	if r.reply.Existed {
		// Moved: everything the session held, and what landed in it
		// before the move, under the new token.
		s = rd.work.clone()
		s.token = token
		if m.moved == nil {
			m.moved = make(map[string]time.Time)
		}
		m.moved[rd.s.token] = m.now
		rd.kill()
		if u := m.use[rd.s.token]; u != nil {
			m.use[token] = u
		}
		m.used(token, it.tab, true)
	} else {
		if !withDestroy {
			return failf(invLostSession, "%s: the sign-in found no session", it)
		}
		m.lineages++
		s = newMSess(token, m.lineages, m.now)
		m.used(token, it.tab, true)
	}
	s.put(mKey{Tab: mSessionWide, Name: "user"}, mVal{List: []string{it.op.item()}}, m.now)
	rd.made[token] = s
	rd.lands = append(rd.lands, landing{it, s.lineage})
	return nil
}

// regenDestroy judges a sign-in racing a sign-out of the same browser.
// It reports whether the sign-out found the session.
func (rd *roundOf) regenDestroy(regen, destroy *mItem) (*mFail, bool) {
	if f := rd.regen(regen, true); f != nil {
		return f, false
	}
	found := destroy.ok() && destroy.resp.reply != nil && destroy.resp.reply.Existed
	switch {
	case !destroy.ok() && !lostToSignOut(destroy):
		return failf(invStatus, "%s: sign-out must answer 200, or 409 in a tab the sign-in moved away", destroy), false
	case !destroy.ok() && rd.work != nil:
		return failf(invStatus, "%s: neither the sign-in nor the sign-out found the session", destroy), false
	case rd.work != nil:
		// The sign-in failed: the sign-out deleted the session first.
		if !found {
			return failf(invStatus, "%s: neither the sign-in nor the sign-out found the session", destroy), false
		}
		rd.kill()
	}
	return nil, found
}

// lostToSignOut says whether a request that raced a sign-in or sign-out
// of its browser failed as it may: its commit found the session moved or
// deleted (409), or, in a tab other than 0, the kit found the tab gone
// with the session (409, and the dead cookie removed).
func lostToSignOut(it *mItem) bool {
	r := it.resp
	return r.status == http.StatusConflict && (r.cookie == nil || *r.cookie == "" && it.tab != 0)
}

// close judges kit.Tab.Close.
func (rd *roundOf) close(it *mItem) *mFail {
	if !it.ok() || it.resp.cookie != nil || !it.resp.reply.Existed {
		return failf(invStatus, "%s: closing an open tab must answer 200", it)
	}
	rd.m.used(rd.work.token, it.tab, false)
	rd.work.dropTab(it.tab)
	return nil
}

// open judges an op that opens or reuses a tab.
func (rd *roundOf) open(it *mItem) *mFail {
	m, w, r, op := rd.m, rd.work, it.resp, it.op
	if r.cookie != nil {
		return failf(invLostSession, "%s: the cookie changed", it)
	}
	m.used(w.token, 0, false)
	var got uint32
	var evicted []uint32
	var notice string
	switch {
	case op.Kind == mFork:
		parent := it.tab
		copied := make(map[mKey]mVal)
		for k := range w.values {
			if v, ok := w.get(k, m.now); ok && k.Tab == int64(parent) {
				copied[k] = v
			}
		}
		if len(w.resolveIn(parent)) > 0 {
			return failf(invValue, "model: fork of tab %d with unsettled values", parent)
		}
		inUse := parent
		if m.relax["fork-parent"] {
			inUse = noTab // the kit ranks the parent by its stored last-seen time
		}
		got, evicted = w.openFresh(m.now, inUse, m.relax["evict-stale"])
		if slices.Contains(evicted, parent) {
			copied = nil // the kit copies what it holds after the eviction
		}
		if m.fork == kit.ForkCopy {
			for k, v := range copied {
				if m.relax["fork-ttl"] {
					v.Deadline = time.Time{} // the kit's copy loses the deadline
				}
				w.put(mKey{Tab: int64(got), Name: k.Name}, v, m.now)
			}
		}
		notice = kit.ForkedMessage(tabs.ID(parent), m.fork)
		if r.status != http.StatusOK {
			return failf(invStatus, "%s: want 200", it)
		}
		var body struct{ Tab uint32 }
		if err := json.Unmarshal([]byte(r.body), &body); err != nil || body.Tab != got {
			return failf(invTabs, "%s: forked into %q, model says tab %d (evicting %v)", it, r.body, got, evicted)
		}
		m.browsers[rd.b].pages[op.Q] = got
	default:
		rest := redirectRest(it.req.path)
		switch {
		case op.Kind == mNewTab:
			got, evicted = w.openFresh(m.now, noTab, m.relax["evict-stale"])
		case op.Kind == mBare, op.Kind == mForged && op.Forge < 0:
			got, evicted = w.reuse(m.now, m.relax["reuse-stale"], m.relax["evict-stale"])
		default: // a tab number the session does not have
			got, evicted = w.reuse(m.now, m.relax["reuse-stale"], m.relax["evict-stale"])
			notice = kit.UnknownTabMessage
			if it.eff == effStaleGet && got != it.tab {
				rd.revive(it.tab)
			}
		}
		want := "/" + strconv.FormatUint(uint64(got), 10) + rest
		if r.status != http.StatusSeeOther || r.location != want {
			return failf(invTabs, "%s: model says 303 to %s (evicting %v)", it, want, evicted)
		}
		m.browsers[rd.b].pages[op.P] = got
	}
	if notice != "" {
		w.notify(got, notice)
	}
	if len(evicted) > 0 {
		m.count("tabs evicted")
	}
	return nil
}

// redirectRest is what a redirect into a tab keeps of path: the path
// after its tab prefix or new-tab entry, with the query.
func redirectRest(path string) string {
	cut := 0
	if _, n, ok := tabs.SplitPrefix(path, tabs.DefaultMaxID); ok {
		cut = n
	}
	if rest := path[cut:]; rest == "/+" || strings.HasPrefix(rest, "/+/") || strings.HasPrefix(rest, "/+?") {
		cut += 2
	}
	return path[cut:]
}

func (s *mSess) resolveIn(tab uint32) []mKey {
	var keys []mKey
	for k := range s.resolve {
		if k.Tab == int64(tab) {
			keys = append(keys, k)
		}
	}
	return keys
}

// finish settles which cookie the browser holds after the round (the
// last Set-Cookie it processed) and checks that it kept its session and
// every acknowledged write.
func (rd *roundOf) finish(items []*mItem, destroyed bool) *mFail {
	m, br := rd.m, rd.m.browsers[rd.b]
	sorted := slices.Clone(items)
	slices.SortFunc(sorted, func(a, b *mItem) int { return int(a.resp.seq - b.resp.seq) })
	final := rd.start
	var last *mItem
	for _, it := range sorted {
		if it.resp.cookie != nil {
			final, last = *it.resp.cookie, it
		}
	}
	var held *mSess
	switch {
	case final == rd.start:
		held = rd.work
	case final != "":
		held = rd.made[final]
		if held == nil {
			return failf(invStatus, "%s: cookie %s from nowhere", last, shortToken(final))
		}
	}
	if rd.s != nil && rd.work != nil && final != rd.start {
		// The session lives on under the old token, but the browser was
		// told to forget it.
		if !destroyed {
			return failf(invLostSession, "the browser's session %s lives, but %s replaced its cookie", shortToken(rd.start), last)
		}
	}
	if !destroyed {
		heldLineage := -1
		if held != nil {
			heldLineage = held.lineage
		}
		if rd.s != nil && heldLineage != rd.s.lineage {
			what := "no session"
			if held != nil {
				what = "a new session " + shortToken(held.token)
			}
			return failf(invLostSession, "browser b%d held session %s; after the round it holds %s, because %s was processed last",
				rd.b, shortToken(rd.s.token), what, last)
		}
		for _, l := range rd.lands {
			if l.lineage != heldLineage {
				return failf(invLostWrite, "%s was acknowledged, but the browser ends up holding another session (cookie set by %s, processed last)", l.it, last)
			}
		}
	}
	// Move the model on.
	delete(m.sessions, rd.start)
	if rd.work != nil && final != rd.start {
		// The session outlives the cookie: an orphan nobody can reach.
		rd.work = nil
	}
	if held != nil {
		m.sessions[held.token] = held
	}
	br.token = final
	return nil
}
