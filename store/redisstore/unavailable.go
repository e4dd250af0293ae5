package redisstore

import (
	"context"
	"errors"
	"io"
	"net"
	"syscall"

	"github.com/redis/go-redis/v9"
)

// isUnavailable reports whether err says Redis cannot serve right now, as
// opposed to refusing the request: the same call may work once the server
// is back, has loaded its data or has memory again.
func isUnavailable(err error) bool {
	var netErr net.Error
	switch {
	case errors.As(err, &netErr),
		errors.Is(err, io.EOF),
		errors.Is(err, io.ErrUnexpectedEOF),
		errors.Is(err, syscall.ECONNREFUSED),
		errors.Is(err, syscall.ECONNRESET),
		errors.Is(err, syscall.EPIPE),
		// The caller's context is still live when this is called, so a
		// deadline here is the client's own dial or I/O timeout.
		errors.Is(err, context.DeadlineExceeded),
		errors.Is(err, redis.ErrPoolTimeout),
		errors.Is(err, redis.ErrPoolExhausted):
		return true
	}
	return redis.IsLoadingError(err) ||
		redis.IsMasterDownError(err) ||
		redis.IsClusterDownError(err) ||
		redis.IsTryAgainError(err) ||
		redis.IsReadOnlyError(err) ||
		redis.IsMaxClientsError(err) ||
		redis.IsNoReplicasError(err) ||
		redis.IsOOMError(err) ||
		redis.HasErrorPrefix(err, "BUSY") ||
		isRedirect(err)
}

// isRedirect reports whether a cluster node refused a command for a slot
// it does not serve (now): a client of one node cannot follow MOVED or
// ASK, so such a command is refused, changing nothing, until the cluster
// client has reloaded its map of slots.
func isRedirect(err error) bool {
	return redis.HasErrorPrefix(err, "MOVED ") || redis.HasErrorPrefix(err, "ASK ")
}
