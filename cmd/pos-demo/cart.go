package main

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// cartKey is the tab-scoped key holding a register's cart.
const cartKey = "cart"

// Limits that keep a cart, and so the session, small. One limit serves
// the Add form and the cart's quantity field, so whatever one accepts the
// other shows.
const (
	maxLineQty   = 99
	maxCartLines = 100
	// rememberedCheckouts is how many recent checkouts a cart keeps, so a
	// repeated checkout form finds the sale it already rang up.
	rememberedCheckouts = 4
)

var (
	errCartFull = fmt.Errorf("the cart holds %d different products at most", maxCartLines)
	errTooMany  = fmt.Errorf("a cart line holds %d at most", maxLineQty)
)

// Cart is a register's open order. Version grows with every change, so a
// summary written from an older copy never overwrites a newer one, and
// ID with Version names one state of one cart: the checkout form's
// idempotency key.
type Cart struct {
	Lines   []CartLine `json:"lines"`
	Version int64      `json:"version"`
	// ID is random, given by the first change; it tells this cart's
	// versions from another's in the shop-wide ledger.
	ID string `json:"id,omitempty"`
	// Checkouts are the latest checkouts of this cart, newest last.
	Checkouts []checkoutRef `json:"checkouts,omitempty"`
}

// checkoutRef remembers which sale a version of the cart became.
type checkoutRef struct {
	Version int64  `json:"version"`
	Sale    string `json:"sale"`
}

// CartLine is a quantity of one product.
type CartLine struct {
	SKU string `json:"sku"`
	Qty int    `json:"qty"`
}

// Add puts qty more of sku in the cart.
func (c *Cart) Add(sku string, qty int) error {
	c.ensureID()
	for i := range c.Lines {
		if c.Lines[i].SKU == sku {
			if c.Lines[i].Qty+qty > maxLineQty {
				return errTooMany
			}
			c.Lines[i].Qty += qty
			c.Version++
			return nil
		}
	}
	if len(c.Lines) >= maxCartLines {
		return errCartFull
	}
	c.Lines = append(c.Lines, CartLine{SKU: sku, Qty: qty})
	c.Version++
	return nil
}

// SetQty sets the quantity of a product already in the cart; zero
// removes it. found is false when the cart does not hold sku.
func (c *Cart) SetQty(sku string, qty int) (found bool) {
	for i := range c.Lines {
		if c.Lines[i].SKU != sku {
			continue
		}
		c.ensureID()
		if qty == 0 {
			c.Lines = append(c.Lines[:i], c.Lines[i+1:]...)
		} else {
			c.Lines[i].Qty = qty
		}
		c.Version++
		return true
	}
	return false
}

// TakeAll empties the cart and returns what it held.
func (c *Cart) TakeAll() []CartLine {
	lines := c.Lines
	c.Lines = nil
	c.Version++
	return lines
}

// ensureID gives the cart its random ID on its first change.
func (c *Cart) ensureID() {
	if c.ID == "" {
		var b [16]byte
		_, _ = rand.Read(b[:]) // never fails; it crashes the program instead
		c.ID = base64.RawURLEncoding.EncodeToString(b[:])
	}
}

// Key is the idempotency key of the cart as it is now: the checkout form
// carries it, and a sale is rung up for it once. A cart that has never
// changed has no key.
func (c *Cart) Key() string {
	if c.ID == "" {
		return ""
	}
	return c.ID + "." + strconv.FormatInt(c.Version, 10)
}

// remember notes that version became sale, keeping the latest few.
func (c *Cart) remember(version int64, sale string) {
	c.Checkouts = append(c.Checkouts, checkoutRef{Version: version, Sale: sale})
	if over := len(c.Checkouts) - rememberedCheckouts; over > 0 {
		c.Checkouts = append([]checkoutRef(nil), c.Checkouts[over:]...)
	}
}

// forget drops what remember noted for sale, when the sale could not be
// recorded after all.
func (c *Cart) forget(sale string) {
	c.Checkouts = slices.DeleteFunc(c.Checkouts, func(r checkoutRef) bool { return r.Sale == sale })
}

// checkedOut returns the sale version became, if remembered.
func (c *Cart) checkedOut(version int64) (sale string, ok bool) {
	for _, r := range c.Checkouts {
		if r.Version == version {
			return r.Sale, true
		}
	}
	return "", false
}

// checkoutKey is a parsed idempotency key: which cart, at which version.
type checkoutKey struct {
	cartID  string
	version int64
}

// errBadKey is returned by parseCheckoutKey for a key no form carried.
var errBadKey = errors.New("not a checkout key")

// parseCheckoutKey reads a key Cart.Key made: 22 base64url characters, a
// dot, a version.
func parseCheckoutKey(s string) (checkoutKey, error) {
	id, v, ok := strings.Cut(s, ".")
	if !ok || len(id) != 22 || len(v) == 0 || len(v) > 18 {
		return checkoutKey{}, errBadKey
	}
	if _, err := base64.RawURLEncoding.DecodeString(id); err != nil {
		return checkoutKey{}, errBadKey
	}
	version, err := strconv.ParseInt(v, 10, 64)
	if err != nil || version < 0 || strconv.FormatInt(version, 10) != v {
		return checkoutKey{}, errBadKey
	}
	return checkoutKey{cartID: id, version: version}, nil
}

// String is the key as Cart.Key spells it.
func (k checkoutKey) String() string { return k.cartID + "." + strconv.FormatInt(k.version, 10) }

// PricedLine is a cart line with its product and amounts.
type PricedLine struct {
	Product
	Qty       int
	LineCents int64
}

// PricedCart is a cart priced from the catalogue.
type PricedCart struct {
	Lines      []PricedLine
	Items      int
	TotalCents int64
}

// price looks every line up in the catalogue. Lines whose product has
// left the catalogue are skipped: they cannot be sold.
func price(lines []CartLine, catalog *Catalog) PricedCart {
	var pc PricedCart
	for _, l := range lines {
		p, ok := catalog.Product(l.SKU)
		if !ok || l.Qty <= 0 {
			continue
		}
		line := PricedLine{Product: p, Qty: l.Qty, LineCents: p.PriceCents * int64(l.Qty)}
		pc.Lines = append(pc.Lines, line)
		pc.Items += l.Qty
		pc.TotalCents += line.LineCents
	}
	return pc
}

// errBadQty is returned by parseQty for input that is not a quantity.
var errBadQty = errors.New("quantity must be a whole number")

// parseQty reads a form quantity: empty means fallback; otherwise a whole
// number from lo to hi.
func parseQty(s string, fallback, lo, hi int) (int, error) {
	if s == "" {
		return fallback, nil
	}
	n := 0
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' || i >= 6 {
			return 0, errBadQty
		}
		n = n*10 + int(s[i]-'0')
	}
	if n < lo || n > hi {
		return 0, fmt.Errorf("quantity must be from %d to %d", lo, hi)
	}
	return n, nil
}
