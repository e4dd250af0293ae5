package main

import (
	"strings"
	"testing"
)

func TestShippedCatalog(t *testing.T) {
	c, err := loadCatalog(catalogJSON)
	if err != nil {
		t.Fatal(err)
	}
	if c.Len() < 40 {
		t.Errorf("got %d products, want at least 40", c.Len())
	}
	for _, cat := range c.Categories {
		if len(cat.Products) == 0 {
			t.Errorf("category %s has no products", cat.Slug)
		}
	}
	if p, ok := c.Product("COF-001"); !ok || p.Name != "Espresso" || p.PriceCents != 260 {
		t.Errorf("COF-001: got %+v, %v", p, ok)
	}
}

func TestLoadCatalogRefuses(t *testing.T) {
	const cats = `"categories":[{"slug":"a","name":"A"}]`
	tests := []struct {
		name, json, wantErr string
	}{
		{"bad JSON", `{`, "unexpected end"},
		{"no products", `{` + cats + `,"products":[]}`, "no products"},
		{"bad SKU", `{` + cats + `,"products":[{"sku":"a/b","name":"x","price_cents":1,"category":"a"}]}`, "not of the form"},
		{"free", `{` + cats + `,"products":[{"sku":"A-1","name":"x","price_cents":0,"category":"a"}]}`, "price 0"},
		{"unknown category", `{` + cats + `,"products":[{"sku":"A-1","name":"x","price_cents":1,"category":"b"}]}`, "unknown category"},
		{"duplicate SKU", `{` + cats + `,"products":[{"sku":"A-1","name":"x","price_cents":1,"category":"a"},{"sku":"A-1","name":"y","price_cents":1,"category":"a"}]}`, "twice"},
		{"duplicate category", `{"categories":[{"slug":"a"},{"slug":"a"}],"products":[]}`, "twice"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := loadCatalog([]byte(tt.json))
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("got %v, want an error containing %q", err, tt.wantErr)
			}
		})
	}
}
