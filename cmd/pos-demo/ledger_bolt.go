package main

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"
)

// boltLedger keeps sales in a bbolt file of its own, never the session
// store's: sales outlive sessions, and the two files can be backed up,
// compacted and cleared apart.
//
// Layout: bucket "sales" maps a sale ID (a UUIDv7, so keys sort by time)
// to the sale's JSON; "keys" maps an idempotency key to a sale ID;
// "totals" holds the running count and sum, so the sales page never
// walks the ledger.
type boltLedger struct {
	db *bolt.DB
	// signOutLimit is the most sign-out notes kept: maxSignOuts, less in
	// tests.
	signOutLimit int
}

var (
	salesBucket  = []byte("sales")
	keysBucket   = []byte("keys")
	totalsBucket = []byte("totals")
	countField   = []byte("count")
	centsField   = []byte("cents")
)

// openBoltLedger opens (or creates) the ledger file at path. It waits a
// second at most for another process holding the file.
func openBoltLedger(path string) (*boltLedger, error) {
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: time.Second})
	if err != nil {
		return nil, fmt.Errorf("sales ledger %s: %w", path, err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		for _, b := range [][]byte{salesBucket, keysBucket, totalsBucket, signOutsBucket, signOutsByTimeBucket} {
			if _, err := tx.CreateBucketIfNotExists(b); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("sales ledger %s: %w", path, err)
	}
	return &boltLedger{db: db, signOutLimit: maxSignOuts}, nil
}

func (l *boltLedger) Record(_ context.Context, sale Sale) (Sale, bool, error) {
	value, err := json.Marshal(sale)
	if err != nil {
		return Sale{}, false, err
	}
	var prior []byte
	err = l.db.Update(func(tx *bolt.Tx) error {
		sales, keys, totals := tx.Bucket(salesBucket), tx.Bucket(keysBucket), tx.Bucket(totalsBucket)
		if sale.Key != "" {
			if id := keys.Get([]byte(sale.Key)); id != nil {
				// Copied: bbolt's bytes are only valid inside the
				// transaction.
				prior = append([]byte(nil), sales.Get(id)...)
				return nil
			}
			if err := keys.Put([]byte(sale.Key), []byte(sale.ID)); err != nil {
				return err
			}
		}
		if sales.Get([]byte(sale.ID)) != nil {
			return fmt.Errorf("sales ledger: sale %s recorded twice", sale.ID)
		}
		if err := sales.Put([]byte(sale.ID), value); err != nil {
			return err
		}
		if err := addCounter(totals, countField, 1); err != nil {
			return err
		}
		return addCounter(totals, centsField, sale.TotalCents)
	})
	if err != nil {
		return Sale{}, false, fmt.Errorf("sales ledger: %w", err)
	}
	if prior != nil {
		var s Sale
		if err := json.Unmarshal(prior, &s); err != nil {
			return Sale{}, false, fmt.Errorf("sales ledger: decoding a sale: %w", err)
		}
		return s, true, nil
	}
	return sale, false, nil
}

func addCounter(b *bolt.Bucket, field []byte, delta int64) error {
	var n int64
	if v := b.Get(field); len(v) == 8 {
		n = int64(binary.BigEndian.Uint64(v))
	}
	return b.Put(field, binary.BigEndian.AppendUint64(nil, uint64(n+delta)))
}

func counter(b *bolt.Bucket, field []byte) int64 {
	if v := b.Get(field); len(v) == 8 {
		return int64(binary.BigEndian.Uint64(v))
	}
	return 0
}

func (l *boltLedger) Sale(_ context.Context, id string) (Sale, bool, error) {
	var raw []byte
	err := l.db.View(func(tx *bolt.Tx) error {
		raw = append([]byte(nil), tx.Bucket(salesBucket).Get([]byte(id))...)
		return nil
	})
	return decodeSale(raw, err)
}

func (l *boltLedger) SaleByKey(_ context.Context, key string) (Sale, bool, error) {
	var raw []byte
	err := l.db.View(func(tx *bolt.Tx) error {
		if id := tx.Bucket(keysBucket).Get([]byte(key)); id != nil {
			raw = append([]byte(nil), tx.Bucket(salesBucket).Get(id)...)
		}
		return nil
	})
	return decodeSale(raw, err)
}

// decodeSale turns a stored value into a sale; an empty one is "not
// found".
func decodeSale(raw []byte, err error) (Sale, bool, error) {
	if err != nil {
		return Sale{}, false, fmt.Errorf("sales ledger: %w", err)
	}
	if len(raw) == 0 {
		return Sale{}, false, nil
	}
	var s Sale
	if err := json.Unmarshal(raw, &s); err != nil {
		return Sale{}, false, fmt.Errorf("sales ledger: decoding a sale: %w", err)
	}
	return s, true, nil
}

func (l *boltLedger) Recent(_ context.Context, n int) ([]Sale, LedgerTotals, error) {
	var raws [][]byte
	var totals LedgerTotals
	err := l.db.View(func(tx *bolt.Tx) error {
		t := tx.Bucket(totalsBucket)
		totals = LedgerTotals{Sales: counter(t, countField), Cents: counter(t, centsField)}
		c := tx.Bucket(salesBucket).Cursor()
		for k, v := c.Last(); k != nil && len(raws) < n; k, v = c.Prev() {
			raws = append(raws, append([]byte(nil), v...))
		}
		return nil
	})
	if err != nil {
		return nil, LedgerTotals{}, fmt.Errorf("sales ledger: %w", err)
	}
	sales := make([]Sale, 0, len(raws))
	for _, raw := range raws {
		var s Sale
		if err := json.Unmarshal(raw, &s); err != nil {
			return nil, LedgerTotals{}, fmt.Errorf("sales ledger: decoding a sale: %w", err)
		}
		sales = append(sales, s)
	}
	return sales, totals, nil
}

func (l *boltLedger) Close() error { return l.db.Close() }
