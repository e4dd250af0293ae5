package pgstore

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"syscall"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/tabkit/tabkit/store"
)

// unavailable wraps err in store.ErrUnavailable when it means PostgreSQL
// cannot serve now (unreachable, shutting down or starting up, out of
// connections, disk or memory, a standby after a failover) rather than a
// mistake in the request.
func unavailable(err error) error {
	if isUnavailable(err) {
		return fmt.Errorf("%w: %w", store.ErrUnavailable, err)
	}
	return err
}

func isUnavailable(err error) bool {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		switch code := pgErr.Code; {
		case strings.HasPrefix(code, "08"), // connection exception
			strings.HasPrefix(code, "53"), // insufficient resources: disk full, out of memory, too many connections
			strings.HasPrefix(code, "58"), // system error: I/O error
			code == "57P01",               // admin_shutdown: pg_ctl stop, pg_terminate_backend
			code == "57P02",               // crash_shutdown
			code == "57P03",               // cannot_connect_now: starting up, shutting down
			code == "25006",               // read_only_sql_transaction: a standby, as after a failover
			isDeadlock(err):               // still after every retry
			return true
		}
		return false
	}
	var (
		netErr     net.Error
		connectErr *pgconn.ConnectError
	)
	switch {
	case errors.As(err, &netErr),
		errors.As(err, &connectErr),
		errors.Is(err, io.EOF),
		errors.Is(err, io.ErrUnexpectedEOF),
		errors.Is(err, syscall.ECONNREFUSED),
		errors.Is(err, syscall.ECONNRESET),
		errors.Is(err, syscall.EPIPE),
		errors.Is(err, pgconn.ErrConnClosed),
		pgconn.Timeout(err),
		// The caller's context is still live when this is called, so a
		// deadline here is the pool's or the driver's own.
		errors.Is(err, context.DeadlineExceeded):
		return true
	}
	return pgconn.SafeToRetry(err)
}

// isDeadlock reports whether PostgreSQL aborted the transaction so that
// another could go on: starting over is then the way.
func isDeadlock(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && (pgErr.Code == "40P01" || pgErr.Code == "40001")
}

// retryNow reports whether a call's first try should be repeated at
// once, on another connection: nothing of it reached the server, or it
// lost its connection while it could not have changed anything yet
// (harmless: a read, an idempotent delete, a transaction that had not
// sent its COMMIT). That is what a pooled connection that died while
// idle (a server restart, an admin terminating it) does to the first
// call that uses it.
func retryNow(ctx context.Context, err error, try int, harmless bool) bool {
	return try == 0 && ctx.Err() == nil && (pgconn.SafeToRetry(err) || harmless && connLost(err))
}

// connLost reports whether err says the connection broke under a call,
// as opposed to the server refusing it or being unreachable.
func connLost(err error) bool {
	var (
		pgErr      *pgconn.PgError
		connectErr *pgconn.ConnectError
	)
	switch {
	case errors.As(err, &connectErr):
		return false
	case errors.As(err, &pgErr):
		return pgErr.Code == "57P01" || pgErr.Code == "57P02" || strings.HasPrefix(pgErr.Code, "08")
	}
	return isUnavailable(err)
}
