package main

import (
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/tabkit/tabkit/kit"
)

// addItem is POST /{n}/cart/items: qty (default 1) more of sku in this
// register's cart.
func (a *app) addItem(c *kit.Context) error {
	product, ok := a.catalog.Product(c.FormValue("sku"))
	if !ok {
		return a.backWithError(c, "That product is not in the catalogue.")
	}
	qty, err := parseQty(c.FormValue("qty"), 1, 1, maxAddQty)
	if err != nil {
		return a.backWithError(c, "Cannot add "+product.Name+": "+err.Error()+".")
	}
	// The flash is queued first so it lands in the same commit as the
	// cart: an add is either saved and announced, or neither.
	if err := flashOK(c, fmt.Sprintf("Added %d × %s", qty, product.Name)); err != nil {
		return err
	}
	var cart Cart
	err = c.Session().Tab().Update(cartKey, &cart, func() error { return cart.Add(product.SKU, qty) })
	if errors.Is(err, errCartFull) || errors.Is(err, errTooMany) {
		c.Session().Discard()
		return a.backWithError(c, "Cannot add "+product.Name+": "+err.Error()+".")
	}
	if err != nil {
		return err
	}
	return a.afterCartChange(c, cart)
}

// errNotInCart stops a quantity change for a product the cart no longer
// holds, so nothing of it is committed.
var errNotInCart = errors.New("not in the cart")

// setQty is POST /{n}/cart/items/{sku}: set the quantity, 0 removes.
func (a *app) setQty(c *kit.Context) error {
	product, ok := a.catalog.Product(c.Param("sku"))
	if !ok {
		return a.backWithError(c, "That product is not in the catalogue.")
	}
	qty, err := parseQty(c.FormValue("qty"), -1, 0, maxLineQty)
	if err == nil && qty < 0 {
		err = errBadQty
	}
	if err != nil {
		return a.backWithError(c, "Cannot change "+product.Name+": "+err.Error()+".")
	}
	message := fmt.Sprintf("%s: quantity %d", product.Name, qty)
	if qty == 0 {
		message = "Removed " + product.Name
	}
	if err := flashOK(c, message); err != nil {
		return err
	}
	var cart Cart
	err = c.Session().Tab().Update(cartKey, &cart, func() error {
		if !cart.SetQty(product.SKU, qty) {
			return errNotInCart
		}
		return nil
	})
	if errors.Is(err, errNotInCart) {
		c.Session().Discard()
		return a.backWithError(c, product.Name+" is not in this cart any more.")
	}
	if err != nil {
		return err
	}
	return a.afterCartChange(c, cart)
}

// checkout is POST /{n}/checkout: the cart becomes a sale in the
// session's ledger, and the register starts afresh.
func (a *app) checkout(c *kit.Context) error {
	s := c.Session()
	tab := s.Tab()
	var cart Cart
	var taken []CartLine
	err := tab.Update(cartKey, &cart, func() error {
		taken = cart.TakeAll()
		return nil
	})
	if err != nil {
		return err
	}
	priced := price(taken, a.catalog)
	if len(priced.Lines) == 0 {
		return a.backWithError(c, "The cart is empty: add something before checking out.")
	}
	who, _, err := currentCashier(s)
	if err != nil {
		return a.restoreCart(c, taken, err)
	}
	label, err := tab.Label()
	if err != nil {
		return a.restoreCart(c, taken, err)
	}
	sale := newSale(priced, tab.ID(), registerName(label, tab.ID()), who.Name, time.Now())
	// Queued before the ledger's Update, so the sale and its announcement
	// land in one commit.
	if err := flashOK(c, "Sale complete: "+formatCents(sale.TotalCents)); err != nil {
		return a.restoreCart(c, taken, err)
	}
	var ledger Ledger
	var id string
	if err := s.Update(salesKey, &ledger, func() error {
		id = ledger.add(sale)
		return nil
	}); err != nil {
		s.Discard()
		return a.restoreCart(c, taken, err)
	}
	a.log.Info("sale", "id", id, "tab", tab.ID(), "items", sale.Items, "total_cents", sale.TotalCents)
	a.saveSummaryBestEffort(c, cart)
	return c.Redirect(http.StatusSeeOther, "/sales/"+id)
}

// restoreCart puts lines taken for a sale that could not be recorded back
// into the cart, so a failed checkout loses nothing, and returns cause.
func (a *app) restoreCart(c *kit.Context, lines []CartLine, cause error) error {
	var cart Cart
	err := c.Session().Tab().Update(cartKey, &cart, func() error {
		for _, l := range lines {
			if err := cart.Add(l.SKU, l.Qty); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		a.log.Error("checkout failed and its cart could not be restored", "err", err, "lines", len(lines))
	}
	return cause
}

// afterCartChange updates the registers summary and sends the browser
// back to the register (post, redirect, get).
func (a *app) afterCartChange(c *kit.Context, cart Cart) error {
	a.saveSummaryBestEffort(c, cart)
	return c.Redirect(http.StatusSeeOther, "/")
}

// saveSummaryBestEffort updates the registers summary after the cart
// change has been saved. The summary is derived data, refreshed on the
// register's next page view, so failing to write it must not turn a
// saved change into an error page the cashier would retry.
func (a *app) saveSummaryBestEffort(c *kit.Context, cart Cart) {
	if err := a.saveSummary(c, cart); err != nil {
		a.log.Warn("registers summary not updated", "tab", c.Session().Tab().ID(), "err", err)
	}
}

// backWithError refuses a form with a message on the register page.
// Nothing changed, so the answer is the same redirect.
func (a *app) backWithError(c *kit.Context, message string) error {
	if err := flashError(c, message); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/")
}
