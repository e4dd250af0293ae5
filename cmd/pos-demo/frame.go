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
	Nav       string
	SignedIn  bool
	Tab       tabs.ID
	Register  string
	Cashier   string
	CSRF      string
	CartItems int
	Flashes   []flashMessage
}

// frame reads the header's data and takes this tab's flashes, the kit's
// included. cart is the tab's cart, already read by the caller.
func (a *app) frame(c *kit.Context, title, nav string, cart Cart) (frame, error) {
	s := c.Session()
	tab := s.Tab()
	f := frame{Title: title, Nav: nav, Tab: tab.ID()}
	who, signedIn, err := currentCashier(s)
	if err != nil {
		return f, err
	}
	f.SignedIn, f.Cashier = signedIn, who.Name
	label, err := tab.Label()
	if err != nil {
		return f, err
	}
	f.Register = registerName(label, tab.ID())
	if signedIn {
		if f.CSRF, err = sessionToken(s); err != nil {
			return f, err
		}
	}
	f.CartItems = price(cart.Lines, a.catalog).Items
	f.Flashes, err = takeFlashes(tab)
	return f, err
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
