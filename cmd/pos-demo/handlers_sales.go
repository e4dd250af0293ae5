package main

import (
	"net/http"
	"slices"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/tabkit/tabkit/kit"
	"github.com/tabkit/tabkit/tabs"
)

// loadLedger reads the session's sales.
func loadLedger(s *kit.Session) (Ledger, error) {
	var ledger Ledger
	_, err := s.Get(salesKey, &ledger)
	return ledger, err
}

// salesView is the data of the sales page.
type salesView struct {
	frame
	Sales      []Sale // newest first
	TotalCents int64
}

// salesPage is GET /{n}/sales: every sale of this browser, from every
// register.
func (a *app) salesPage(c *kit.Context) error {
	cart, err := loadCart(c)
	if err != nil {
		return err
	}
	ledger, err := loadLedger(c.Session())
	if err != nil {
		return err
	}
	f, err := a.frame(c, "Sales", "sales", cart)
	if err != nil {
		return err
	}
	sales := slices.Clone(ledger.Sales)
	slices.Reverse(sales)
	return a.pages.render(c, http.StatusOK, "sales", salesView{frame: f, Sales: sales, TotalCents: ledger.TotalCents()})
}

// receiptView is the data of the receipt page.
type receiptView struct {
	frame
	Sale Sale
}

// receiptPage is GET /{n}/sales/{id}.
func (a *app) receiptPage(c *kit.Context) error {
	ledger, err := loadLedger(c.Session())
	if err != nil {
		return err
	}
	sale, ok := ledger.find(c.Param("id"))
	if !ok {
		return echo.NewHTTPError(http.StatusNotFound)
	}
	cart, err := loadCart(c)
	if err != nil {
		return err
	}
	f, err := a.frame(c, "Receipt #"+sale.ID, "sales", cart)
	if err != nil {
		return err
	}
	return a.pages.render(c, http.StatusOK, "receipt", receiptView{frame: f, Sale: sale})
}

// registerRow is one line of the registers page.
type registerRow struct {
	Tab        tabs.ID
	Name       string
	Items      int
	TotalCents int64
	LastSeen   time.Time
	Current    bool
	// URL is the register's own address. It carries its prefix, so the
	// page's rewriting leaves it alone.
	URL string
}

// registersView is the data of the registers page.
type registersView struct {
	frame
	Registers  []registerRow
	TotalCents int64
}

// registersPage is GET /{n}/registers: every tab of this browser, with
// its cart's size. This tab's numbers are read from its cart, the others'
// from the session-wide summary.
func (a *app) registersPage(c *kit.Context) error {
	s := c.Session()
	cart, err := loadCart(c)
	if err != nil {
		return err
	}
	var summaries registerSummaries
	if _, err := s.Get(registersKey, &summaries); err != nil {
		return err
	}
	open, err := s.Tabs()
	if err != nil {
		return err
	}
	here := s.Tab().ID()
	view := registersView{}
	for _, t := range open {
		sum := summaries[t.ID]
		if t.ID == here {
			sum = summarize(cart, a.catalog)
		}
		view.Registers = append(view.Registers, registerRow{
			Tab: t.ID, Name: registerName(t.Label, t.ID), Items: sum.Items, TotalCents: sum.TotalCents,
			LastSeen: t.LastSeen, Current: t.ID == here, URL: tabs.Prefix(t.ID, "/"),
		})
		view.TotalCents += sum.TotalCents
	}
	if view.frame, err = a.frame(c, "Open registers", "registers", cart); err != nil {
		return err
	}
	return a.pages.render(c, http.StatusOK, "registers", view)
}
