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
	qty, err := parseQty(c.FormValue("qty"), 1, 1, maxLineQty)
	if err != nil {
		return a.backWithError(c, "Cannot add "+product.Name+": "+err.Error()+".")
	}
	// Announced first, so a flash lands in the same commit as the cart:
	// an add is either saved and announced, or neither.
	if err := announce(c, flashMessage{Kind: "ok", Text: fmt.Sprintf("Added %d × %s", qty, product.Name)}); err != nil {
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
	if err := announce(c, flashMessage{Kind: "ok", Text: message}); err != nil {
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

// Outcomes of taking a cart for a checkout, other than taking it.
var (
	errCheckedOut  = errors.New("this version of the cart is already a sale")
	errCartChanged = errors.New("the cart changed since the form was shown")
	errCartEmpty   = errors.New("the cart is empty")
)

// checkout is POST /{n}/checkout: the cart becomes a sale in the shop's
// ledger, and the register starts afresh.
//
// The form carries the cart's key (its ID and version). The cart is
// taken in one atomic Update that also remembers which sale the version
// became, so of any number of posts with one key (a double click, Back
// and resubmit, a retry) exactly one takes the cart, and the others are
// shown that sale's receipt. A post without a key takes whatever the
// cart holds, as scripts do.
func (a *app) checkout(c *kit.Context) error {
	var want *checkoutKey
	if raw := c.FormValue("key"); raw != "" {
		k, err := parseCheckoutKey(raw)
		if err != nil {
			return a.backWithError(c, "That checkout form did not come from this till. Check the cart and try again.")
		}
		want = &k
	}
	id, err := newSaleID()
	if err != nil {
		return err
	}
	done := a.checkouts.start(id)
	defer done()

	s := c.Session()
	tab := s.Tab()
	var cart Cart
	var taken []CartLine
	var takenVersion int64
	var prior string
	err = tab.Update(cartKey, &cart, func() error {
		taken, prior = nil, "" // the function may run more than once
		if want != nil && cart.ID == want.cartID {
			if sale, ok := cart.checkedOut(want.version); ok {
				prior = sale
				return errCheckedOut
			}
		}
		if want != nil && (cart.ID != want.cartID || cart.Version != want.version) {
			return errCartChanged
		}
		if len(cart.Lines) == 0 {
			return errCartEmpty
		}
		takenVersion = cart.Version
		taken = cart.TakeAll()
		cart.remember(takenVersion, id)
		return nil
	})
	switch {
	case errors.Is(err, errCheckedOut):
		return a.showCheckedOut(c, prior)
	case errors.Is(err, errCartChanged):
		return a.backWithError(c, "The cart changed since this page was shown: check it and press Checkout again.")
	case errors.Is(err, errCartEmpty):
		return a.backWithError(c, "The cart is empty: add something before checking out.")
	case err != nil:
		return err
	}

	priced := price(taken, a.catalog)
	if len(priced.Lines) == 0 {
		return a.backWithError(c, "The cart is empty: add something before checking out.")
	}
	who, _, err := currentCashier(s)
	if err != nil {
		return a.restoreCart(c, taken, id, err)
	}
	label, err := tab.Label()
	if err != nil {
		return a.restoreCart(c, taken, id, err)
	}
	key := ""
	if cart.ID != "" {
		key = checkoutKey{cartID: cart.ID, version: takenVersion}.String()
	}
	sale := newSale(id, key, priced, tab.ID(), registerName(label, tab.ID()), who.Name, time.Now())
	if err := flashOK(c, "Sale complete: "+formatCents(sale.TotalCents)); err != nil {
		return a.restoreCart(c, taken, id, err)
	}
	stored, err := a.record(c, sale)
	if err != nil {
		s.Discard()
		return a.restoreCart(c, taken, id, err)
	}
	a.log.Info("sale", "id", stored.ID, "tab", tab.ID(), "items", stored.Items, "total_cents", stored.TotalCents)
	a.saveSummaryBestEffort(c, cart)
	return c.Redirect(http.StatusSeeOther, "/sales/"+stored.ID)
}

// record writes sale to the ledger. When the ledger's answer is an error,
// the sale may have landed all the same (a Redis reply lost on the way),
// so the key is looked up before the checkout is called failed: the cart
// goes back only for a sale that is surely not there.
func (a *app) record(c *kit.Context, sale Sale) (Sale, error) {
	ctx := c.Request().Context()
	stored, _, err := a.ledger.Record(ctx, sale)
	if err == nil || sale.Key == "" {
		return stored, err
	}
	if found, ok, lerr := a.ledger.SaleByKey(ctx, sale.Key); lerr == nil && ok {
		return found, nil
	}
	return Sale{}, err
}

// showCheckedOut answers a checkout of a cart version that is already a
// sale: with that sale's receipt, once it is recorded.
func (a *app) showCheckedOut(c *kit.Context, id string) error {
	a.checkouts.wait(c.Request().Context(), id)
	_, found, err := a.ledger.Sale(c.Request().Context(), id)
	if err != nil {
		return err
	}
	if !found {
		return a.backWithError(c, "This cart was checked out twice at once, and the first checkout did not finish. Check the Sales page before ringing it up again.")
	}
	if err := c.Session().Tab().Flash(flashKey, flashMessage{Kind: "info", Text: "Already checked out: this is that sale's receipt. Nothing was rung up twice."}); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/sales/"+id)
}

// restoreCart puts lines taken for a sale that could not be recorded back
// into the cart, and forgets the sale they were to become, so a failed
// checkout loses nothing; it returns cause.
func (a *app) restoreCart(c *kit.Context, lines []CartLine, sale string, cause error) error {
	var cart Cart
	err := c.Session().Tab().Update(cartKey, &cart, func() error {
		cart.forget(sale)
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

// saveSummaryBestEffort updates the registers summary after the cart
// change has been saved. The summary is derived data, refreshed on the
// register's next page view, so failing to write it must not turn a
// saved change into an error page the cashier would retry.
func (a *app) saveSummaryBestEffort(c *kit.Context, cart Cart) {
	if err := a.saveSummary(c, cart); err != nil {
		a.log.Warn("registers summary not updated", "tab", c.Session().Tab().ID(), "err", err)
	}
}
