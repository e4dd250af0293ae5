package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"path/filepath"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// ledgers are the backends every ledger test runs on. Redis runs only
// with TABKIT_REDIS_URL set (scripts/redis-test-server.sh start), under a
// key prefix of the test's own, which it deletes afterwards.
var ledgers = []struct {
	name string
	open func(t *testing.T) Ledger
}{
	{"memory", func(t *testing.T) Ledger { return newMemoryLedger() }},
	{"bolt", func(t *testing.T) Ledger {
		l, err := openBoltLedger(filepath.Join(t.TempDir(), "sales.db"))
		if err != nil {
			t.Fatal(err)
		}
		return l
	}},
	{"redis", func(t *testing.T) Ledger {
		url := os.Getenv("TABKIT_REDIS_URL")
		if url == "" {
			t.Skip("TABKIT_REDIS_URL is not set")
		}
		var b [6]byte
		_, _ = rand.Read(b[:])
		prefix := "pos-test:{" + hex.EncodeToString(b[:]) + "}:"
		l, err := openRedisLedger(url, prefix)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			opts, _ := redis.ParseURL(url)
			c := redis.NewClient(opts)
			defer c.Close()
			c.Del(context.Background(), prefix+"sales", prefix+"keys", prefix+"order", prefix+"totals")
		})
		return l
	}},
}

func testSale(t *testing.T, key string, cents int64) Sale {
	t.Helper()
	id, err := newSaleID()
	if err != nil {
		t.Fatal(err)
	}
	return Sale{
		ID: id, Key: key, Tab: 2, Register: "Front", Cashier: "Ann", At: time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC),
		Lines: []SaleLine{{SKU: "COF-001", Name: "Espresso", Qty: 1, PriceCents: cents}}, Items: 1, TotalCents: cents,
	}
}

func TestLedger(t *testing.T) {
	ctx := context.Background()
	for _, backend := range ledgers {
		t.Run(backend.name, func(t *testing.T) {
			l := backend.open(t)
			defer l.Close()

			sales, totals, err := l.Recent(ctx, 10)
			if err != nil || len(sales) != 0 || totals != (LedgerTotals{}) {
				t.Fatalf("empty ledger: got %v, %+v, %v", sales, totals, err)
			}

			first, second, keyless := testSale(t, "cart.1", 260), testSale(t, "cart.2", 390), testSale(t, "", 100)
			for _, s := range []Sale{first, second, keyless} {
				got, existing, err := l.Record(ctx, s)
				if err != nil || existing || !reflect.DeepEqual(got, s) {
					t.Fatalf("Record %s: got %+v, existing %v, %v", s.ID, got, existing, err)
				}
			}
			// The same key again: the first sale, nothing new.
			again := testSale(t, "cart.1", 999)
			got, existing, err := l.Record(ctx, again)
			if err != nil || !existing || got.ID != first.ID || got.TotalCents != 260 {
				t.Fatalf("Record with a used key: got %+v, existing %v, %v; want sale %s", got, existing, err, first.ID)
			}
			// Keyless sales are never taken for one another.
			if _, existing, err := l.Record(ctx, testSale(t, "", 100)); err != nil || existing {
				t.Fatalf("second keyless Record: existing %v, %v", existing, err)
			}

			if s, ok, err := l.Sale(ctx, second.ID); err != nil || !ok || !reflect.DeepEqual(s, second) {
				t.Errorf("Sale(%s): got %+v, %v, %v", second.ID, s, ok, err)
			}
			if _, ok, err := l.Sale(ctx, again.ID); err != nil || ok {
				t.Errorf("Sale of the refused duplicate: found %v, %v", ok, err)
			}
			if s, ok, err := l.SaleByKey(ctx, "cart.2"); err != nil || !ok || s.ID != second.ID {
				t.Errorf("SaleByKey(cart.2): got %s, %v, %v", s.ID, ok, err)
			}
			if _, ok, err := l.SaleByKey(ctx, "cart.3"); err != nil || ok {
				t.Errorf("SaleByKey of an unused key: found %v, %v", ok, err)
			}

			sales, totals, err = l.Recent(ctx, 3)
			if err != nil {
				t.Fatal(err)
			}
			var ids []string
			for _, s := range sales {
				ids = append(ids, s.ID)
			}
			if len(ids) != 3 || ids[1] != keyless.ID || ids[2] != second.ID {
				t.Errorf("Recent(3): got %v, want the newest three, newest first (…, %s, %s)", ids, keyless.ID, second.ID)
			}
			if want := (LedgerTotals{Sales: 4, Cents: 260 + 390 + 100 + 100}); totals != want {
				t.Errorf("totals: got %+v, want %+v", totals, want)
			}
		})
	}
}

// TestLedgerRecordsOneSalePerKey: many Records at once with one key
// store one sale, and every caller gets that sale.
func TestLedgerRecordsOneSalePerKey(t *testing.T) {
	ctx := context.Background()
	for _, backend := range ledgers {
		t.Run(backend.name, func(t *testing.T) {
			l := backend.open(t)
			defer l.Close()
			const racers = 16
			got := make([]Sale, racers)
			fresh := make([]bool, racers)
			var wg sync.WaitGroup
			for i := range racers {
				wg.Go(func() {
					s, existing, err := l.Record(ctx, testSale(t, "cart.7", 500))
					if err != nil {
						t.Error(err)
					}
					got[i], fresh[i] = s, !existing
				})
			}
			wg.Wait()
			stored := 0
			for i := range racers {
				if fresh[i] {
					stored++
				}
				if got[i].ID != got[0].ID {
					t.Errorf("racer %d got sale %s, racer 0 got %s", i, got[i].ID, got[0].ID)
				}
			}
			if _, totals, err := l.Recent(ctx, 100); err != nil || stored != 1 || totals.Sales != 1 {
				t.Errorf("%d racers with one key: %d stored, totals %+v (%v); want one", racers, stored, totals, err)
			}
		})
	}
}

func TestBoltLedgerSurvivesReopening(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "sales.db")
	l, err := openBoltLedger(path)
	if err != nil {
		t.Fatal(err)
	}
	s := testSale(t, "cart.1", 420)
	if _, _, err := l.Record(ctx, s); err != nil {
		t.Fatal(err)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if l, err = openBoltLedger(path); err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if got, ok, err := l.Sale(ctx, s.ID); err != nil || !ok || !reflect.DeepEqual(got, s) {
		t.Errorf("after reopening: got %+v, %v, %v", got, ok, err)
	}
	if _, existing, err := l.Record(ctx, testSale(t, "cart.1", 1)); err != nil || !existing {
		t.Errorf("the key is forgotten after reopening: existing %v, %v", existing, err)
	}
}

func TestLedgerPathBeside(t *testing.T) {
	tests := []struct{ db, want string }{
		{"tabkit.db", "tabkit-sales.db"},
		{"/var/lib/pos/pos.db", "/var/lib/pos/pos-sales.db"},
		{"data/sessions", "data/sessions-sales.db"},
		{"a.b/c.bolt", "a.b/c-sales.bolt"},
	}
	for _, tt := range tests {
		if got := ledgerPathBeside(tt.db); got != tt.want {
			t.Errorf("ledgerPathBeside(%q): got %q, want %q", tt.db, got, tt.want)
		}
	}
}

func TestValidSaleID(t *testing.T) {
	id, err := newSaleID()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		in   string
		want bool
	}{
		{id, true},
		{"0001", false},
		{"", false},
		{"01A23B7E-ACCB-7678-9039-8B870D007EF8", false}, // the ledger's IDs are lower case
		{"{01a23b7e-accb-7678-9039-8b870d007ef8}", false},
		{"urn:uuid:01a23b7e-accb-7678-9039-8b870d007ef8", false},
		{"01a23b7eaccb767890398b870d007ef8", false},
	}
	for _, tt := range tests {
		if got := validSaleID(tt.in); got != tt.want {
			t.Errorf("validSaleID(%q): got %v, want %v", tt.in, got, tt.want)
		}
	}
}
