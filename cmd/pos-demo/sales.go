package main

import (
	"fmt"
	"time"

	"github.com/tabkit/tabkit/tabs"
)

// salesKey is the session-wide key holding the ledger: every register
// appends to it with Session().Update, so two checkouts at once both land.
const salesKey = "sales"

// maxSales bounds the ledger so a long day cannot outgrow the session;
// the oldest sales are dropped first.
const maxSales = 300

// Ledger is the session's sales, oldest first.
type Ledger struct {
	// Next numbers the next sale; it never goes back, so IDs stay unique
	// when old sales are dropped.
	Next  int    `json:"next"`
	Sales []Sale `json:"sales"`
}

// Sale is a completed checkout.
type Sale struct {
	ID         string     `json:"id"`
	Tab        tabs.ID    `json:"tab"`
	Register   string     `json:"register"`
	Cashier    string     `json:"cashier"`
	At         time.Time  `json:"at"`
	Lines      []SaleLine `json:"lines"`
	Items      int        `json:"items"`
	TotalCents int64      `json:"total_cents"`
}

// SaleLine is what was sold of one product, at the price of the day.
type SaleLine struct {
	SKU        string `json:"sku"`
	Name       string `json:"name"`
	Qty        int    `json:"qty"`
	PriceCents int64  `json:"price_cents"`
}

// LineCents is the line's amount.
func (l SaleLine) LineCents() int64 { return l.PriceCents * int64(l.Qty) }

// newSale prices a cart into a sale without an ID.
func newSale(pc PricedCart, tab tabs.ID, register, cashier string, at time.Time) Sale {
	s := Sale{Tab: tab, Register: register, Cashier: cashier, At: at.UTC(), Items: pc.Items, TotalCents: pc.TotalCents}
	for _, l := range pc.Lines {
		s.Lines = append(s.Lines, SaleLine{SKU: l.SKU, Name: l.Name, Qty: l.Qty, PriceCents: l.PriceCents})
	}
	return s
}

// add numbers sale, appends it and returns its ID.
func (l *Ledger) add(sale Sale) string {
	l.Next++
	sale.ID = fmt.Sprintf("%04d", l.Next)
	l.Sales = append(l.Sales, sale)
	if over := len(l.Sales) - maxSales; over > 0 {
		l.Sales = append([]Sale(nil), l.Sales[over:]...)
	}
	return sale.ID
}

// find returns the sale with the given ID.
func (l *Ledger) find(id string) (Sale, bool) {
	for _, s := range l.Sales {
		if s.ID == id {
			return s, true
		}
	}
	return Sale{}, false
}

// TotalCents is the sum of the ledger's sales.
func (l *Ledger) TotalCents() int64 {
	var sum int64
	for _, s := range l.Sales {
		sum += s.TotalCents
	}
	return sum
}
