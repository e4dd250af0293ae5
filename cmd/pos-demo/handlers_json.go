package main

import (
	"net/http"
	"time"

	"github.com/tabkit/tabkit/kit"
	"github.com/tabkit/tabkit/tabs"
)

// cartView is the body of GET /{n}/cart.json.
type cartView struct {
	Tab        tabs.ID    `json:"tab"`
	Label      string     `json:"label"`
	Items      []lineView `json:"items"`
	TotalCents int64      `json:"total_cents"`
}

// lineView is a cart or sale line in JSON.
type lineView struct {
	SKU        string `json:"sku"`
	Qty        int    `json:"qty"`
	PriceCents int64  `json:"price_cents"`
}

// saleView is one entry of GET /sales.json.
type saleView struct {
	ID         string     `json:"id"`
	Tab        tabs.ID    `json:"tab"`
	TotalCents int64      `json:"total_cents"`
	Items      []lineView `json:"items"`
	// Added with the shop-wide ledger: which register and cashier, when.
	Register string    `json:"register"`
	Cashier  string    `json:"cashier"`
	At       time.Time `json:"at"`
}

// salesListed is how many sales GET /sales.json lists at most: the
// newest, oldest first.
const salesListed = 1000

// cartJSON is GET /{n}/cart.json. It answers without sign-in too: a
// browser that is not signed in has no carts, so it reads an empty one.
func (a *app) cartJSON(c *kit.Context) error {
	tab := c.Session().Tab()
	cart, err := loadCart(c)
	if err != nil {
		return err
	}
	label, err := tab.Label()
	if err != nil {
		return err
	}
	pc := price(cart.Lines, a.catalog)
	view := cartView{Tab: tab.ID(), Label: label, Items: make([]lineView, 0, len(pc.Lines)), TotalCents: pc.TotalCents}
	for _, l := range pc.Lines {
		view.Items = append(view.Items, lineView{SKU: l.SKU, Qty: l.Qty, PriceCents: l.PriceCents})
	}
	c.Response().Header().Set("Cache-Control", "no-store")
	return c.JSON(http.StatusOK, view)
}

// salesJSON is GET /sales.json: the shop's sales, oldest first (the
// newest salesListed of them). It needs a signed-in cashier.
func (a *app) salesJSON(c *kit.Context) error {
	c.Response().Header().Set("Cache-Control", "no-store")
	_, signedIn, err := currentCashier(c.Session())
	if err != nil {
		return err
	}
	if !signedIn {
		return c.JSON(http.StatusUnauthorized, map[string]string{"error": "sign in required"})
	}
	sales, _, err := a.ledger.Recent(c.Request().Context(), salesListed)
	if err != nil {
		return err
	}
	list := make([]saleView, 0, len(sales))
	for i := len(sales) - 1; i >= 0; i-- {
		s := sales[i]
		v := saleView{ID: s.ID, Tab: s.Tab, TotalCents: s.TotalCents, Items: make([]lineView, 0, len(s.Lines)),
			Register: s.Register, Cashier: s.Cashier, At: s.At}
		for _, l := range s.Lines {
			v.Items = append(v.Items, lineView{SKU: l.SKU, Qty: l.Qty, PriceCents: l.PriceCents})
		}
		list = append(list, v)
	}
	return c.JSON(http.StatusOK, list)
}
