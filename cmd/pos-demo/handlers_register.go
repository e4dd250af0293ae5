package main

import (
	"fmt"
	"net/http"

	"github.com/tabkit/tabkit/kit"
)

// maxLabelRunes bounds a register's name.
const maxLabelRunes = 40

// registerView is the data of the register page.
type registerView struct {
	frame
	Categories []Category
	Cart       PricedCart
	// Label is the stored label, "" when the register has the default name.
	Label string
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
	f, err := a.frame(c, "Register", "register", cart)
	if err != nil {
		return err
	}
	label, err := c.Session().Tab().Label()
	if err != nil {
		return err
	}
	view := registerView{frame: f, Categories: a.catalog.Categories, Cart: price(cart.Lines, a.catalog), Label: label}
	view.Title = f.Register
	return a.pages.render(c, http.StatusOK, "register", view)
}

// rename is POST /{n}/label: name this register; an empty name restores
// the default.
func (a *app) rename(c *kit.Context) error {
	tab := c.Session().Tab()
	label := cleanLabel(c.FormValue("label"), maxLabelRunes)
	if err := tab.SetLabel(label); err != nil {
		return err
	}
	if err := flashOK(c, fmt.Sprintf("This register is now called %q.", registerName(label, tab.ID()))); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/")
}
