package main

import (
	"context"
	"errors"
	"time"

	"github.com/google/uuid"
	"github.com/tabkit/tabkit/tabs"
)

// Sale is a completed checkout. Sales belong to the shop: they live in
// the Ledger, not in a browser's session, so signing out keeps them.
type Sale struct {
	// ID is a UUIDv7: unique across processes, and in time order.
	ID string `json:"id"`
	// Key is the checkout's idempotency key (see checkoutKey); a second
	// checkout with the same key gets this sale back instead of a new
	// one. Empty for a checkout posted without a key.
	Key        string     `json:"key,omitempty"`
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

// ShortID is how a receipt is named on screen: the last eight hex digits
// of its ID, which are random (the first ones are the time, shared by
// every sale of the same minute).
func (s Sale) ShortID() string {
	if len(s.ID) < 8 {
		return s.ID
	}
	return s.ID[len(s.ID)-8:]
}

// newSaleID returns a fresh UUIDv7.
func newSaleID() (string, error) {
	id, err := uuid.NewV7()
	if err != nil {
		return "", err
	}
	return id.String(), nil
}

// validSaleID accepts what newSaleID makes, so a path parameter of any
// other shape never reaches the ledger.
func validSaleID(s string) bool {
	id, err := uuid.Parse(s)
	return err == nil && len(s) == 36 && id.String() == s
}

// newSale prices a cart into a sale.
func newSale(id, key string, pc PricedCart, tab tabs.ID, register, cashier string, at time.Time) Sale {
	s := Sale{ID: id, Key: key, Tab: tab, Register: register, Cashier: cashier, At: at.UTC(), Items: pc.Items, TotalCents: pc.TotalCents}
	for _, l := range pc.Lines {
		s.Lines = append(s.Lines, SaleLine{SKU: l.SKU, Name: l.Name, Qty: l.Qty, PriceCents: l.PriceCents})
	}
	return s
}

// LedgerTotals sums a whole ledger.
type LedgerTotals struct {
	Sales int64 `json:"sales"`
	Cents int64 `json:"cents"`
}

// Ledger keeps the shop's sales, apart from the session store: a browser
// signing out, or its session ending, takes no sale with it. Every method
// is safe for concurrent use.
type Ledger interface {
	// Record stores sale, unless sale.Key is set and a sale with that key
	// is already stored: then it stores nothing and returns that sale
	// with existing set. Two Records with the same key, at once, store
	// one sale.
	Record(ctx context.Context, sale Sale) (stored Sale, existing bool, err error)
	// Sale returns the sale with the given ID.
	Sale(ctx context.Context, id string) (sale Sale, found bool, err error)
	// SaleByKey returns the sale recorded under an idempotency key.
	SaleByKey(ctx context.Context, key string) (sale Sale, found bool, err error)
	// Recent returns the newest sales, at most n, newest first, and the
	// totals of the whole ledger.
	Recent(ctx context.Context, n int) ([]Sale, LedgerTotals, error)
	// Close releases the ledger's file or connection.
	Close() error
}

// errLedgerClosed is returned by a ledger's methods after Close.
var errLedgerClosed = errors.New("ledger: closed")
