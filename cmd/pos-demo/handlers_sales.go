package main

import (
	"net/http"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/tabkit/tabkit/kit"
	"github.com/tabkit/tabkit/tabs"
)

// salesShown is how many sales the sales page lists, newest first.
const salesShown = 100

// salesView is the data of the sales page.
type salesView struct {
	frame
	Sales  []Sale // newest first
	Totals LedgerTotals
	// Older counts the sales the page does not list.
	Older int64
}

// salesPage is GET /{n}/sales: the shop's latest sales, from every
// register and cashier, with the ledger's totals.
func (a *app) salesPage(c *kit.Context) error {
	cart, err := loadCart(c)
	if err != nil {
		return err
	}
	sales, totals, err := a.ledger.Recent(c.Request().Context(), salesShown)
	if err != nil {
		return err
	}
	f, err := a.frame(c, "Sales", "sales", cart)
	if err != nil {
		return err
	}
	return a.pages.render(c.Response(), http.StatusOK, "sales", salesView{frame: f, Sales: sales, Totals: totals, Older: totals.Sales - int64(len(sales))})
}

// receiptView is the data of the receipt page.
type receiptView struct {
	frame
	Sale Sale
}

// receiptPage is GET /{n}/sales/{id}.
func (a *app) receiptPage(c *kit.Context) error {
	id := c.Param("id")
	if !validSaleID(id) {
		return echo.NewHTTPError(http.StatusNotFound)
	}
	sale, ok, err := a.ledger.Sale(c.Request().Context(), id)
	if err != nil {
		return err
	}
	if !ok {
		return echo.NewHTTPError(http.StatusNotFound)
	}
	cart, err := loadCart(c)
	if err != nil {
		return err
	}
	f, err := a.frame(c, "Receipt "+sale.ShortID(), "sales", cart)
	if err != nil {
		return err
	}
	return a.pages.render(c.Response(), http.StatusOK, "receipt", receiptView{frame: f, Sale: sale})
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
	// Others are the cashier's other terminals.
	Others terminalsView
}

// registersPage is GET /{n}/registers: every tab of this browser, with
// its cart's size, and the cashier's other terminals.
func (a *app) registersPage(c *kit.Context) error {
	cart, err := loadCart(c)
	if err != nil {
		return err
	}
	view := registersView{}
	if view.Registers, err = a.registerRows(c, cart); err != nil {
		return err
	}
	for _, r := range view.Registers {
		view.TotalCents += r.TotalCents
	}
	if view.frame, err = a.frame(c, "Open registers", "registers", cart); err != nil {
		return err
	}
	if view.Others, err = a.terminalsView(c, view.Cashier); err != nil {
		return err
	}
	return a.pages.render(c.Response(), http.StatusOK, "registers", view)
}

// registerRows lists this browser's open registers. This tab's numbers
// are read from its cart (cart), the others' from the session-wide
// summary, since a request reads only its own tab's values.
func (a *app) registerRows(c *kit.Context, cart Cart) ([]registerRow, error) {
	s := c.Session()
	var summaries registerSummaries
	if _, err := s.Get(registersKey, &summaries); err != nil {
		return nil, err
	}
	open, err := s.Tabs()
	if err != nil {
		return nil, err
	}
	here := s.Tab().ID()
	rows := make([]registerRow, 0, len(open))
	for _, t := range open {
		sum := summaries[t.ID]
		if t.ID == here {
			sum = summarize(cart, a.catalog)
		}
		rows = append(rows, registerRow{
			Tab: t.ID, Name: registerName(t.Label, t.ID), Items: sum.Items, TotalCents: sum.TotalCents,
			LastSeen: t.LastSeen, Current: t.ID == here, URL: tabs.Prefix(t.ID, "/"),
		})
	}
	return rows, nil
}
