package kittest

import (
	"strings"
	"testing"
	"time"
)

// mKnown names the failures the model test has found in the kit, as
// -model.relax takes them (see TestModel).
var mKnown = []string{"regen-race", "fork-ttl", "fork-parent", "stale-revive", "reuse-stale", "evict-stale", "stale-listed"}

// RunModelCases replays, one request at a time, short sequences the
// model test found, each of which broke one of the kit's promises before
// it was fixed (mKnown names them), with the others relaxed. A case is
// skipped while -model.relax or TABKIT_MODEL_RELAX relaxes it. The race
// (regen-race) needs requests at once; RunModel finds it.
func RunModelCases(t *testing.T, name string, open Opener) {
	cases := []struct {
		name  string
		steps []mStep
	}{
		{
			// A fork's copy of a value with a time to live keeps it forever.
			name: "fork-ttl",
			steps: []mStep{
				{{Kind: mSetTTL, B: 0, P: 1, Scope: 't', Key: "b", TTL: 20 * time.Second, ID: 1}},
				{{Kind: mFork, B: 0, P: 1, Q: 3, ID: 2}},
				{{Kind: mAdvance, Adv: 30 * time.Second}},
			},
		},
		{
			// kit.Tab 3 forks while it is the least recently seen: the fork
			// evicts its own parent, whose value b0.5 is lost, and copies
			// nothing.
			name: "fork-parent",
			steps: []mStep{
				{{Kind: mNaive, B: 0, P: 2, Scope: 's', Key: "a", ID: 1}},
				{{Kind: mNewTab, B: 0, P: 3, ID: 2}},
				{{Kind: mNewTab, B: 0, P: 0, ID: 3}},
				{{Kind: mNewTab, B: 0, P: 1, ID: 4}},
				{{Kind: mUpdate, B: 0, P: 1, Scope: 't', Key: "a", ID: 5}},
				{{Kind: mAdvance, Adv: 62 * time.Second}},
				{{Kind: mUpdate, B: 0, P: 3, Scope: 't', Key: "a", ID: 6}},
				{{Kind: mUpdate, B: 0, P: 0, Scope: 't', Key: "a", ID: 7}},
				{{Kind: mFork, B: 0, P: 1, Q: 2, ID: 8}},
			},
		},
		{
			// kit.Tab 1 idles out; a write there is refused with 409, and the
			// same write again is accepted: the refusal revived the tab.
			name: "stale-revive",
			steps: []mStep{
				{{Kind: mNaive, B: 0, P: 1, Scope: 's', Key: "a", ID: 1}},
				{{Kind: mNewTab, B: 0, P: 1, ID: 2}},
				{{Kind: mUpdate, B: 0, P: 1, Scope: 't', Key: "a", ID: 3}},
				{{Kind: mAdvance, Adv: 10*time.Minute + 24*time.Second}},
				{{Kind: mUpdate, B: 0, P: 1, Scope: 't', Key: "a", ID: 4}},
				{{Kind: mUpdate, B: 0, P: 1, Scope: 't', Key: "a", ID: 5}},
			},
		},
		{
			// A bare visit lands in tab 1, which idled out: a closed
			// tab's number handed out again.
			name: "reuse-stale",
			steps: []mStep{
				{{Kind: mUpdate, B: 0, P: 1, Scope: 's', Key: "c", ID: 1}},
				{{Kind: mFork, B: 0, P: 1, Q: 2, ID: 2}},
				{{Kind: mAdvance, Adv: 22 * time.Minute}},
				{{Kind: mBare, B: 0, P: 1, ID: 3}},
			},
		},
		{
			// Tabs 0, 1 and 2 idle out while tab 3 is open and empty; a
			// new tab evicts tab 3, though only it and the new one are open.
			name: "evict-stale",
			steps: []mStep{
				{{Kind: mNaive, B: 0, P: 1, Scope: 't', Key: "b", ID: 1}},
				{{Kind: mFork, B: 0, P: 3, Q: 0, ID: 2}},
				{{Kind: mForged, B: 0, P: 1, Forge: 0, ID: 3}},
				{{Kind: mNaive, B: 0, P: 1, Scope: 't', Key: "c", ID: 4}},
				{{Kind: mAdvance, Adv: 8*time.Minute + 7*time.Second}},
				{{Kind: mBare, B: 0, P: 1, ID: 5}},
				{{Kind: mAdvance, Adv: 5*time.Minute + 3*time.Second}},
				{{Kind: mNewTab, B: 0, P: 1, ID: 6}},
			},
		},
		{
			// kit.Session.Tabs lists tab 1 after it idled out.
			name: "stale-listed",
			steps: []mStep{
				{{Kind: mNaive, B: 0, P: 1, Scope: 's', Key: "a", ID: 1}},
				{{Kind: mNewTab, B: 0, P: 1, ID: 2}},
				{{Kind: mAdvance, Adv: 11*time.Minute + 34*time.Second}},
				{{Kind: mTabsOp, B: 0, P: 2, ID: 3}},
			},
		},
	}
	setup := mSetup{name: name, open: open}
	{
		{
			for _, c := range cases {
				t.Run(c.name, func(t *testing.T) {
					if mRelaxed()[c.name] {
						t.Skipf("%s is relaxed", c.name)
					}
					relax := make(map[string]bool)
					for _, name := range mKnown {
						relax[name] = name != c.name
					}
					// Seeds 0 and 1: Echo and net/http, both with kit.ForkCopy.
					for seed := range uint64(2) {
						r := newMRun(t, setup, seed, relax)
						res := r.exec(nil, 0, c.steps)
						if res.invalid != nil {
							t.Fatalf("%s: the case is not one the model can judge: %v", r, res.invalid)
						}
						if testing.Verbose() {
							t.Logf("%s:\n\t%s", r, strings.Join(res.trace, "\n\t"))
						}
						if res.fail != nil {
							t.Errorf("%s: step %d broke %q: %s\n\t%s", r, res.at, res.fail.inv, res.fail.msg, strings.Join(res.trace, "\n\t"))
						}
					}
				})
			}
		}
	}
}
