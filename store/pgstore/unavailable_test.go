package pgstore

import (
	"context"
	"errors"
	"fmt"
	"io"
	"syscall"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/tabkit/tabkit/store"
)

// TestUnavailable checks which errors mean "PostgreSQL cannot serve now"
// (store.ErrUnavailable, a 503) and which are the request's own, and
// which of the first kind say the connection broke under the call.
func TestUnavailable(t *testing.T) {
	pg := func(code string) error { return fmt.Errorf("query: %w", &pgconn.PgError{Code: code}) }
	tests := []struct {
		name                  string
		err                   error
		unavailable, connLost bool
	}{
		{"admin shutdown", pg("57P01"), true, true},
		{"crash shutdown", pg("57P02"), true, true},
		{"starting up", pg("57P03"), true, false},
		{"connection failure", pg("08006"), true, true},
		{"too many connections", pg("53300"), true, false},
		{"disk full", pg("53100"), true, false},
		{"I/O error", pg("58030"), true, false},
		{"read-only standby", pg("25006"), true, false},
		{"deadlock, after every retry", pg("40P01"), true, false},
		{"serialization failure, after every retry", pg("40001"), true, false},
		{"unique violation", pg("23505"), false, false},
		{"syntax error", pg("42601"), false, false},
		{"undefined table", pg("42P01"), false, false},
		{"refused", fmt.Errorf("dial: %w", syscall.ECONNREFUSED), true, true},
		{"reset", fmt.Errorf("read: %w", syscall.ECONNRESET), true, true},
		{"EOF", fmt.Errorf("receive message: %w", io.ErrUnexpectedEOF), true, true},
		{"closed", pgconn.ErrConnClosed, true, true},
		{"driver's own deadline", fmt.Errorf("connect: %w", context.DeadlineExceeded), true, true},
		{"something else", errors.New("pgstore: the user join matches several rows"), false, false},
	}
	for _, tt := range tests {
		if got := errors.Is(unavailable(tt.err), store.ErrUnavailable); got != tt.unavailable {
			t.Errorf("%s: unavailable got %v, want %v", tt.name, got, tt.unavailable)
		}
		if got := connLost(tt.err); got != tt.connLost {
			t.Errorf("%s: connLost got %v, want %v", tt.name, got, tt.connLost)
		}
		if wrapped := unavailable(tt.err); !errors.Is(wrapped, tt.err) {
			t.Errorf("%s: unavailable(err) no longer wraps err", tt.name)
		}
	}
}
