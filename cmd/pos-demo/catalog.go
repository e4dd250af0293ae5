package main

import (
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
)

//go:embed catalog.json
var catalogJSON []byte

// Product is one thing the shop sells.
type Product struct {
	SKU        string `json:"sku"`
	Name       string `json:"name"`
	PriceCents int64  `json:"price_cents"`
	Category   string `json:"category"`
}

// Category groups products on the register page.
type Category struct {
	Slug     string    `json:"slug"`
	Name     string    `json:"name"`
	Products []Product `json:"-"`
}

// Catalog is the shop's price list. It is read-only after loadCatalog.
type Catalog struct {
	Categories []Category
	bySKU      map[string]Product
}

// loadCatalog parses and checks a catalogue: unique SKUs, positive
// prices, known categories.
func loadCatalog(data []byte) (*Catalog, error) {
	var raw struct {
		Categories []Category `json:"categories"`
		Products   []Product  `json:"products"`
	}
	if err := json.Unmarshal(data, &raw); err != nil {
		return nil, fmt.Errorf("catalogue: %w", err)
	}
	c := &Catalog{bySKU: make(map[string]Product, len(raw.Products))}
	index := make(map[string]int, len(raw.Categories))
	for _, cat := range raw.Categories {
		if _, dup := index[cat.Slug]; dup || cat.Slug == "" {
			return nil, fmt.Errorf("catalogue: category %q is empty or listed twice", cat.Slug)
		}
		index[cat.Slug] = len(c.Categories)
		c.Categories = append(c.Categories, Category{Slug: cat.Slug, Name: cat.Name})
	}
	for _, p := range raw.Products {
		i, ok := index[p.Category]
		switch {
		case !validSKU(p.SKU):
			return nil, fmt.Errorf("catalogue: SKU %q is not of the form ABC-123", p.SKU)
		case p.PriceCents <= 0:
			return nil, fmt.Errorf("catalogue: %s has price %d", p.SKU, p.PriceCents)
		case !ok:
			return nil, fmt.Errorf("catalogue: %s is in unknown category %q", p.SKU, p.Category)
		}
		if _, dup := c.bySKU[p.SKU]; dup {
			return nil, fmt.Errorf("catalogue: SKU %s listed twice", p.SKU)
		}
		c.bySKU[p.SKU] = p
		c.Categories[i].Products = append(c.Categories[i].Products, p)
	}
	if len(c.bySKU) == 0 {
		return nil, errors.New("catalogue: no products")
	}
	return c, nil
}

// Product returns the product with the given SKU.
func (c *Catalog) Product(sku string) (Product, bool) {
	p, ok := c.bySKU[sku]
	return p, ok
}

// Len is the number of products.
func (c *Catalog) Len() int { return len(c.bySKU) }

// validSKU accepts the catalogue's SKU shape: letters, digits and dashes,
// at most 16 bytes. SKUs appear in URL paths, so nothing else is allowed.
func validSKU(sku string) bool {
	if sku == "" || len(sku) > 16 {
		return false
	}
	for i := 0; i < len(sku); i++ {
		c := sku[i]
		if !('A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}
