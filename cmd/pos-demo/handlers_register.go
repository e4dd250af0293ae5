package main

import (
	"fmt"
	"net/http"
	"strconv"

	"github.com/tabkit/tabkit/kit"
	"github.com/tabkit/tabkit/tabs"
)

// maxLabelRunes bounds a register's name.
const maxLabelRunes = 40

// registerView is the data of the register page and of its in-place
// updates.
type registerView struct {
	frame
	Categories []Category
	Cart       PricedCart
	// Label is the stored label, "" when the register has the default name.
	Label string
	// Key is the cart's idempotency key, which the checkout form carries.
	Key string
	// Version is the cart's, which the close form carries, so a close
	// confirmed for one cart does not drop a cart changed since.
	Version int64
	// MaxQty is the most of one product a cart line holds.
	MaxQty int
}

// registerView builds the register page's data for cart, this tab's.
func (a *app) registerView(c *kit.Context, cart Cart) (registerView, error) {
	f, err := a.frame(c, "Register", "register", cart)
	if err != nil {
		return registerView{}, err
	}
	label, err := c.Session().Tab().Label()
	if err != nil {
		return registerView{}, err
	}
	view := registerView{
		frame: f, Categories: a.catalog.Categories, Cart: price(cart.Lines, a.catalog), Label: label,
		Key: cart.Key(), Version: cart.Version, MaxQty: maxLineQty,
	}
	view.Title = f.Register
	return view, nil
}

// registerPage is GET /{n}/: the catalogue and this register's cart.
func (a *app) registerPage(c *kit.Context) error {
	cart, err := loadCart(c)
	if err != nil {
		return err
	}
	// A register forked from another arrives with a copy of its cart but
	// no summary yet; saveSummary writes only in that case.
	if err := a.saveSummary(c, cart); err != nil {
		return err
	}
	view, err := a.registerView(c, cart)
	if err != nil {
		return err
	}
	return a.pages.render(c.Response(), http.StatusOK, "register", view)
}

// rename is POST /{n}/label: name this register; an empty name restores
// the default.
func (a *app) rename(c *kit.Context) error {
	tab := c.Session().Tab()
	label := cleanLabel(c.FormValue("label"), maxLabelRunes)
	if err := tab.SetLabel(label); err != nil {
		return err
	}
	if err := announce(c, flashMessage{Kind: "ok", Text: fmt.Sprintf("This register is now called %q.", registerName(label, tab.ID()))}); err != nil {
		return err
	}
	if inPlace(c.Request()) {
		cart, err := loadCart(c)
		if err != nil {
			return err
		}
		return a.afterCartChange(c, cart)
	}
	return c.Redirect(http.StatusSeeOther, "/")
}

// closeView is the data of the page that confirms closing a register.
type closeView struct {
	frame
	Cart    PricedCart
	Version int64
}

// closePage is GET /{n}/close: what closing this register drops, and the
// button that does it.
func (a *app) closePage(c *kit.Context) error {
	cart, err := loadCart(c)
	if err != nil {
		return err
	}
	f, err := a.frame(c, "Close register", "close", cart)
	if err != nil {
		return err
	}
	return a.pages.render(c.Response(), http.StatusOK, "close", closeView{frame: f, Cart: price(cart.Lines, a.catalog), Version: cart.Version})
}

// closeRegister is POST /{n}/close: the register's tab is closed, its
// cart dropped. A cart with items is only dropped when the form confirms
// this very version of it (the confirmation page's form); otherwise the
// cashier is shown that page first.
func (a *app) closeRegister(c *kit.Context) error {
	cart, err := loadCart(c)
	if err != nil {
		return err
	}
	if len(cart.Lines) > 0 && c.FormValue("confirm") != strconv.FormatInt(cart.Version, 10) {
		return c.Redirect(http.StatusSeeOther, "/close")
	}
	s := c.Session()
	tab := s.Tab()
	id := tab.ID()
	if err := tab.Close(); err != nil {
		return err
	}
	a.forgetSummaryBestEffort(c, id)
	a.log.Info("register closed", "tab", id, "dropped_items", price(cart.Lines, a.catalog).Items)
	if id == 0 {
		// The first register stays open; closing it empties it.
		if err := flashOK(c, "Register #0 was cleared: it is the browser's first register and stays open."); err != nil {
			return err
		}
		return c.Redirect(http.StatusSeeOther, "/")
	}
	return c.Redirect(http.StatusSeeOther, "/closed?tab="+strconv.FormatUint(uint64(id), 10))
}

// closedView is the data of the page a closed register's browser tab
// shows.
type closedView struct {
	frame
	Closed    tabs.ID
	Registers []registerRow
}

// closedPage is GET /closed?tab=N: the register is gone, and so is this
// browser tab's reason to be; it lists the registers still open.
func (a *app) closedPage(c *kit.Context) error {
	f, err := a.sessionFrame(c, "Register closed", "closed")
	if err != nil {
		return err
	}
	view := closedView{frame: f}
	if n, err := strconv.ParseUint(c.QueryParam("tab"), 10, 32); err == nil {
		view.Closed = tabs.ID(n)
	}
	open, err := c.Session().Tabs()
	if err != nil {
		return err
	}
	for _, t := range open {
		view.Registers = append(view.Registers, registerRow{Tab: t.ID, Name: registerName(t.Label, t.ID), URL: tabs.Prefix(t.ID, "/")})
	}
	return a.pages.render(c.Response(), http.StatusOK, "closed", view)
}
