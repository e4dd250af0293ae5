package main

import (
	"errors"
	"fmt"
)

// cartKey is the tab-scoped key holding a register's cart.
const cartKey = "cart"

// Limits that keep a cart, and so the session, small.
const (
	maxAddQty    = 99
	maxLineQty   = 999
	maxCartLines = 100
)

var (
	errCartFull = fmt.Errorf("the cart holds %d different products at most", maxCartLines)
	errTooMany  = fmt.Errorf("a cart line holds %d at most", maxLineQty)
)

// Cart is a register's open order. Version grows with every change, so a
// summary written from an older copy never overwrites a newer one.
type Cart struct {
	Lines   []CartLine `json:"lines"`
	Version int64      `json:"version"`
}

// CartLine is a quantity of one product.
type CartLine struct {
	SKU string `json:"sku"`
	Qty int    `json:"qty"`
}

// Add puts qty more of sku in the cart.
func (c *Cart) Add(sku string, qty int) error {
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
