package main

import (
	"github.com/tabkit/tabkit/kit"
	"github.com/tabkit/tabkit/tabs"
)

// flashKey is the tab-scoped flash list of the demo's own messages.
const flashKey = "pos"

// flashMessage is a one-time notice shown on the next page of a tab.
type flashMessage struct {
	Kind string `json:"kind"` // "ok", "error" or "info"
	Text string `json:"text"`
}

func flashOK(c *kit.Context, text string) error {
	return c.Session().Tab().Flash(flashKey, flashMessage{Kind: "ok", Text: text})
}

func flashError(c *kit.Context, text string) error {
	return c.Session().Tab().Flash(flashKey, flashMessage{Kind: "error", Text: text})
}

// frame is what the layout shows around every page: the header and the
// flashes.
type frame struct {
	Title string
	// Nav names the active menu entry and styles the page.
	Nav      string
	SignedIn bool
	// Tabbed is set on a register's pages, and clear on the pages of the
	// whole browser (the closed-register page), which have no register
	// to show in the header.
	Tabbed    bool
	Tab       tabs.ID
	Register  string
	Cashier   string
	CSRF      string
	CartItems int
	Flashes   []flashMessage
	// Toasts are messages of an in-place change, which htmx shows over
	// the page rather than above it.
	Toasts []flashMessage
	// OOB marks the header's parts for an out-of-band swap: htmx puts
	// them in place of the page's own.
	OOB bool
	// DefaultPIN says the sign-in page may mention the built-in PIN.
	DefaultPIN bool
}

// frame reads the header's data and takes this tab's flashes, the kit's
// included. cart is the tab's cart, already read by the caller.
func (a *app) frame(c *kit.Context, title, nav string, cart Cart) (frame, error) {
	f, err := a.sessionFrame(c, title, nav)
	if err != nil {
		return f, err
	}
	tab := c.Session().Tab()
	f.Tabbed, f.Tab = true, tab.ID()
	label, err := tab.Label()
	if err != nil {
		return f, err
	}
	f.Register = registerName(label, tab.ID())
	f.CartItems = price(cart.Lines, a.catalog).Items
	f.Flashes, err = takeFlashes(tab)
	return f, err
}

// sessionFrame is the frame of a page that belongs to no register.
func (a *app) sessionFrame(c *kit.Context, title, nav string) (frame, error) {
	s := c.Session()
	f := frame{Title: title, Nav: nav}
	who, signedIn, err := currentCashier(s)
	if err != nil {
		return f, err
	}
	f.SignedIn, f.Cashier = signedIn, who.Name
	if signedIn {
		if f.CSRF, err = sessionToken(s); err != nil {
			return f, err
		}
	}
	return f, nil
}

// takeFlashes returns the kit's notices, then the demo's, and removes
// them.
func takeFlashes(tab *kit.Tab) ([]flashMessage, error) {
	var notices []string
	if _, err := tab.Flashes(kit.FlashKey, &notices); err != nil {
		return nil, err
	}
	var list []flashMessage
	for _, n := range notices {
		list = append(list, flashMessage{Kind: "info", Text: n})
	}
	var own []flashMessage
	if _, err := tab.Flashes(flashKey, &own); err != nil {
		return nil, err
	}
	return append(list, own...), nil
}

// loadCart reads this tab's cart; a tab without one has an empty cart.
func loadCart(c *kit.Context) (Cart, error) {
	var cart Cart
	_, err := c.Session().Tab().Get(cartKey, &cart)
	return cart, err
}
