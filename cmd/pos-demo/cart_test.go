package main

import (
	"fmt"
	"reflect"
	"testing"
)

func TestCart(t *testing.T) {
	var c Cart
	if err := c.Add("A-1", 2); err != nil {
		t.Fatal(err)
	}
	if err := c.Add("B-1", 1); err != nil {
		t.Fatal(err)
	}
	if err := c.Add("A-1", 3); err != nil {
		t.Fatal(err)
	}
	if want := []CartLine{{"A-1", 5}, {"B-1", 1}}; !reflect.DeepEqual(c.Lines, want) {
		t.Errorf("after adds: got %v, want %v", c.Lines, want)
	}
	if err := c.Add("A-1", maxLineQty); err != errTooMany {
		t.Errorf("adding past the line limit: got %v, want errTooMany", err)
	}
	if !c.SetQty("B-1", 7) || c.SetQty("C-1", 1) {
		t.Error("SetQty found the wrong lines")
	}
	if !c.SetQty("A-1", 0) {
		t.Error("SetQty 0 did not find A-1")
	}
	if want := []CartLine{{"B-1", 7}}; !reflect.DeepEqual(c.Lines, want) {
		t.Errorf("after SetQty: got %v, want %v", c.Lines, want)
	}
	version := c.Version
	taken := c.TakeAll()
	if len(taken) != 1 || len(c.Lines) != 0 || c.Version <= version {
		t.Errorf("TakeAll: took %v, left %v, version %d after %d", taken, c.Lines, c.Version, version)
	}
}

func TestCartLineLimit(t *testing.T) {
	var c Cart
	for i := range maxCartLines {
		if err := c.Add(string(rune('A'+i%26))+"-"+string(rune('a'+i/26)), 1); err != nil {
			t.Fatalf("line %d: %v", i, err)
		}
	}
	if err := c.Add("Z-9", 1); err != errCartFull {
		t.Errorf("got %v, want errCartFull", err)
	}
}

func TestParseQty(t *testing.T) {
	tests := []struct {
		in      string
		want    int
		wantErr bool
	}{
		{"", 1, false},
		{"1", 1, false},
		{"99", 99, false},
		{"0", 0, true},
		{"100", 0, true},
		{"-1", 0, true},
		{"2.5", 0, true},
		{"1e3", 0, true},
		{"99999999999999999999", 0, true},
	}
	for _, tt := range tests {
		got, err := parseQty(tt.in, 1, 1, 99)
		if got != tt.want || (err != nil) != tt.wantErr {
			t.Errorf("parseQty(%q): got %d, %v; want %d, error %v", tt.in, got, err, tt.want, tt.wantErr)
		}
	}
}

func TestPriceSkipsUnknownProducts(t *testing.T) {
	c, err := loadCatalog(catalogJSON)
	if err != nil {
		t.Fatal(err)
	}
	pc := price([]CartLine{{"COF-001", 2}, {"GONE-1", 5}}, c)
	if pc.Items != 2 || pc.TotalCents != 520 || len(pc.Lines) != 1 {
		t.Errorf("got %+v, want 2 items for 520 cents", pc)
	}
}

func TestSummariesRecord(t *testing.T) {
	tests := []struct {
		name  string
		start registerSummaries
		tab   uint32
		s     registerSummary
		open  []uint32
		want  registerSummaries
	}{
		{"new entry", registerSummaries{}, 1, registerSummary{Items: 2, Version: 1}, []uint32{0, 1},
			registerSummaries{1: {Items: 2, Version: 1}}},
		{"newer replaces", registerSummaries{1: {Items: 2, Version: 1}}, 1, registerSummary{Items: 3, Version: 2}, []uint32{0, 1},
			registerSummaries{1: {Items: 3, Version: 2}}},
		{"older is ignored", registerSummaries{1: {Items: 3, Version: 5}}, 1, registerSummary{Items: 2, Version: 4}, []uint32{0, 1},
			registerSummaries{1: {Items: 3, Version: 5}}},
		{"closed tabs are forgotten", registerSummaries{2: {Items: 1, Version: 1}}, 3, registerSummary{Items: 1, Version: 1}, []uint32{0, 3},
			registerSummaries{3: {Items: 1, Version: 1}}},
		{"tabs newer than the list are kept", registerSummaries{9: {Items: 1, Version: 1}}, 3, registerSummary{Items: 1, Version: 1}, []uint32{0, 3},
			registerSummaries{3: {Items: 1, Version: 1}, 9: {Items: 1, Version: 1}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.start.record(tabID(tt.tab), tt.s, tabInfos(tt.open...))
			if !reflect.DeepEqual(tt.start, tt.want) {
				t.Errorf("got %v, want %v", tt.start, tt.want)
			}
		})
	}
}

func TestCheckoutKey(t *testing.T) {
	var c Cart
	if c.Key() != "" {
		t.Errorf("an untouched cart has key %q, want none", c.Key())
	}
	if err := c.Add("A-1", 1); err != nil {
		t.Fatal(err)
	}
	key := c.Key()
	k, err := parseCheckoutKey(key)
	if err != nil || k.cartID != c.ID || k.version != c.Version || k.String() != key {
		t.Fatalf("parseCheckoutKey(%q): got %+v, %v", key, k, err)
	}
	var other Cart
	_ = other.Add("A-1", 1)
	if other.ID == c.ID {
		t.Error("two carts share an ID")
	}
	for _, bad := range []string{"", ".", "x.1", c.ID, c.ID + ".", c.ID + ".-1", c.ID + ".01", c.ID + ".1e3",
		c.ID + ".99999999999999999999", "!!!!!!!!!!!!!!!!!!!!!!.1", c.ID + "x.1"} {
		if _, err := parseCheckoutKey(bad); err == nil {
			t.Errorf("parseCheckoutKey(%q) accepted it", bad)
		}
	}
}

func TestCartRemembersItsCheckouts(t *testing.T) {
	var c Cart
	for v := int64(1); v <= rememberedCheckouts+2; v++ {
		c.remember(v, fmt.Sprintf("sale-%d", v))
	}
	if _, ok := c.checkedOut(1); ok {
		t.Error("the oldest checkout is still remembered")
	}
	if s, ok := c.checkedOut(rememberedCheckouts + 2); !ok || s != fmt.Sprintf("sale-%d", rememberedCheckouts+2) {
		t.Errorf("the newest checkout: got %q, %v", s, ok)
	}
	c.forget(fmt.Sprintf("sale-%d", rememberedCheckouts+2))
	if _, ok := c.checkedOut(rememberedCheckouts + 2); ok {
		t.Error("forget did not forget")
	}
	if len(c.Checkouts) != rememberedCheckouts-1 {
		t.Errorf("%d checkouts remembered, want %d", len(c.Checkouts), rememberedCheckouts-1)
	}
}

// FuzzParseCheckoutKey: a key that parses is spelled the one way
// Cart.Key spells it.
func FuzzParseCheckoutKey(f *testing.F) {
	f.Add("AAAAAAAAAAAAAAAAAAAAAA.0")
	f.Add("q83vEjRWeJq83vEjRWeJqw.12")
	f.Add("x.1")
	f.Fuzz(func(t *testing.T, s string) {
		k, err := parseCheckoutKey(s)
		if err != nil {
			return
		}
		if k.String() != s || k.version < 0 {
			t.Fatalf("parseCheckoutKey(%q) = %+v, which spells %q", s, k, k.String())
		}
	})
}
