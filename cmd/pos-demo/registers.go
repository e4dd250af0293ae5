package main

import (
	"github.com/tabkit/tabkit/kit"
	"github.com/tabkit/tabkit/tabs"
)

// registersKey is the session-wide key holding a summary of every
// register's cart. A request can only read its own tab's values, so the
// "Open registers" page reads the other registers from here.
const registersKey = "registers"

// registerSummary is what the registers page shows of a cart.
type registerSummary struct {
	Items      int   `json:"items"`
	TotalCents int64 `json:"total_cents"`
	// Version is the cart's, so an older summary never replaces a newer.
	Version int64 `json:"version"`
}

// registerSummaries maps a tab number to its register's summary.
type registerSummaries map[tabs.ID]registerSummary

func summarize(cart Cart, catalog *Catalog) registerSummary {
	pc := price(cart.Lines, catalog)
	return registerSummary{Items: pc.Items, TotalCents: pc.TotalCents, Version: cart.Version}
}

// record stores s for tab unless a newer summary is there, and forgets
// closed registers. open lists the tabs known open; tabs numbered above
// all of them may have opened since and are kept.
func (m registerSummaries) record(tab tabs.ID, s registerSummary, open []kit.TabInfo) {
	if old, ok := m[tab]; !ok || old.Version < s.Version {
		m[tab] = s
	}
	highest := tabs.ID(0)
	isOpen := make(map[tabs.ID]bool, len(open))
	for _, t := range open {
		isOpen[t.ID] = true
		highest = max(highest, t.ID)
	}
	for n := range m {
		if n != tab && n < highest && !isOpen[n] {
			delete(m, n)
		}
	}
}

// saveSummary records this tab's cart in the session-wide summary. It
// reads first and writes only when the stored summary is older, so
// loading a page costs no write.
func (a *app) saveSummary(c *kit.Context, cart Cart) error {
	s := c.Session()
	tab := s.Tab().ID()
	want := summarize(cart, a.catalog)
	var current registerSummaries
	if _, err := s.Get(registersKey, &current); err != nil {
		return err
	}
	old, known := current[tab]
	if known && old.Version >= want.Version || !known && want.Version == 0 {
		return nil // up to date, or an untouched register that needs no entry
	}
	open, err := s.Tabs()
	if err != nil {
		return err
	}
	var all registerSummaries
	return s.Update(registersKey, &all, func() error {
		if all == nil {
			all = make(registerSummaries)
		}
		all.record(tab, want, open)
		return nil
	})
}

// forgetSummaryBestEffort removes a closed register from the summary.
// The registers page lists open tabs only, so a failure here leaves an
// entry nobody shows until record prunes it.
func (a *app) forgetSummaryBestEffort(c *kit.Context, tab tabs.ID) {
	var all registerSummaries
	err := c.Session().Update(registersKey, &all, func() error {
		delete(all, tab)
		return nil
	})
	if err != nil {
		a.log.Warn("registers summary not updated after a close", "tab", tab, "err", err)
	}
}
