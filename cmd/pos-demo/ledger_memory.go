package main

import (
	"context"
	"slices"
	"sync"
)

// memoryLedger keeps sales in memory, for -store memory: like the
// sessions, they are gone when the process exits.
type memoryLedger struct {
	// mu guards every field below it.
	mu     sync.Mutex
	sales  []Sale // in the order recorded
	byID   map[string]int
	byKey  map[string]int
	totals LedgerTotals
	closed bool
}

func newMemoryLedger() *memoryLedger {
	return &memoryLedger{byID: make(map[string]int), byKey: make(map[string]int)}
}

func (l *memoryLedger) Record(_ context.Context, sale Sale) (Sale, bool, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return Sale{}, false, errLedgerClosed
	}
	if i, ok := l.byKey[sale.Key]; ok && sale.Key != "" {
		return l.sales[i], true, nil
	}
	sale.Lines = slices.Clone(sale.Lines)
	l.byID[sale.ID] = len(l.sales)
	if sale.Key != "" {
		l.byKey[sale.Key] = len(l.sales)
	}
	l.sales = append(l.sales, sale)
	l.totals.Sales++
	l.totals.Cents += sale.TotalCents
	return sale, false, nil
}

func (l *memoryLedger) Sale(_ context.Context, id string) (Sale, bool, error) {
	return l.find(l.byID, id)
}

func (l *memoryLedger) SaleByKey(_ context.Context, key string) (Sale, bool, error) {
	return l.find(l.byKey, key)
}

func (l *memoryLedger) find(index map[string]int, k string) (Sale, bool, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return Sale{}, false, errLedgerClosed
	}
	i, ok := index[k]
	if !ok {
		return Sale{}, false, nil
	}
	return l.sales[i], true, nil
}

func (l *memoryLedger) Recent(_ context.Context, n int) ([]Sale, LedgerTotals, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return nil, LedgerTotals{}, errLedgerClosed
	}
	list := make([]Sale, 0, min(n, len(l.sales)))
	for i := len(l.sales) - 1; i >= 0 && len(list) < n; i-- {
		list = append(list, l.sales[i])
	}
	return list, l.totals, nil
}

func (l *memoryLedger) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.closed = true
	return nil
}
