package redisstore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/tabkit/tabkit/store"
)

// Waiting for replicas. Redis's WAIT counts the replicas that hold every
// write its own connection has sent, so it must follow the write on the
// same connection: for a cluster, a connection to the master of the
// session's slot, not whichever node the cluster client would pick for a
// command without a key.

// checkWaitOptions refuses WaitReplicas settings that cannot work with
// client.
func checkWaitOptions(client redis.UniversalClient, o *Options) error {
	if o.WaitReplicas < 0 || o.WaitTimeout < 0 {
		return errors.New("redisstore: negative WaitReplicas or WaitTimeout in options")
	}
	if o.WaitReplicas == 0 {
		return nil
	}
	// WAIT takes whole milliseconds, and 0 would wait for ever.
	if o.WaitTimeout < time.Millisecond {
		return fmt.Errorf("redisstore: WaitTimeout %v is under a millisecond", o.WaitTimeout)
	}
	var readTimeout time.Duration
	switch c := client.(type) {
	case *redis.Client:
		readTimeout = c.Options().ReadTimeout
	case *redis.ClusterClient:
		readTimeout = c.Options().ReadTimeout
	default:
		return fmt.Errorf("redisstore: WaitReplicas needs a *redis.Client or *redis.ClusterClient, not %T", client)
	}
	// The write and its WAIT are read back within one read timeout.
	if readTimeout > 0 && o.WaitTimeout >= readTimeout {
		return fmt.Errorf("redisstore: WaitTimeout %v is not shorter than the client's read timeout %v", o.WaitTimeout, readTimeout)
	}
	return nil
}

// master returns a client whose connections go to the master serving
// key: the client itself for one server (Sentinel's client follows the
// master by itself), the slot's master for a cluster.
func (s *Store) master(ctx context.Context, key string) (*redis.Client, error) {
	switch c := s.client.(type) {
	case *redis.ClusterClient:
		return c.MasterForKey(ctx, key)
	case *redis.Client:
		return c, nil
	}
	return nil, fmt.Errorf("redisstore: cannot wait for replicas with a %T", s.client)
}

// writeAndWait sends the write that queue adds and a WAIT in one pipeline
// to the master serving key, and returns the write's error, or one
// wrapping ErrNotReplicated when too few replicas acknowledged it. When
// script is set and the server has not loaded it, it loads it and sends
// the pipeline again. op names the operation in errors.
func (s *Store) writeAndWait(ctx context.Context, op, key string, script *redis.Script, queue func(p redis.Pipeliner) redis.Cmder) error {
	node, err := s.master(ctx, key)
	if err != nil {
		return s.fail(ctx, op, err)
	}
	for attempt := 0; ; attempt++ {
		var write redis.Cmder
		var wait *redis.IntCmd
		_, err := node.Pipelined(ctx, func(p redis.Pipeliner) error {
			write = queue(p)
			wait = redis.NewIntCmd(ctx, "wait", s.waitReplicas, s.waitTimeout.Milliseconds())
			return p.Process(ctx, wait)
		})
		if script != nil && attempt == 0 && isNoScript(write.Err()) {
			if err := script.Load(ctx, node).Err(); err != nil {
				return s.fail(ctx, op, err)
			}
			continue
		}
		switch {
		case write.Err() != nil:
			return s.fail(ctx, op, write.Err())
		case err != nil:
			return s.fail(ctx, op, err)
		}
		return s.replicated(op, wait.Val())
	}
}

// waitTx waits for replicas after a transaction's EXEC, on the
// transaction's own connection.
func (s *Store) waitTx(ctx context.Context, tx *redis.Tx) error {
	n, err := tx.Wait(ctx, s.waitReplicas, s.waitTimeout).Result()
	if err != nil {
		return &writtenError{s.fail(ctx, "commit", err)}
	}
	if err := s.replicated("commit", n); err != nil {
		return &writtenError{err}
	}
	return nil
}

// writtenError carries an error met after a transaction's EXEC through
// redis.Client.Watch, so it is neither retried nor taken for a conflict.
type writtenError struct{ err error }

func (e *writtenError) Error() string { return e.err.Error() }
func (e *writtenError) Unwrap() error { return e.err }

// replicated returns nil when acked replicas meet WaitReplicas.
func (s *Store) replicated(op string, acked int64) error {
	if acked >= int64(s.waitReplicas) {
		return nil
	}
	return fmt.Errorf("redisstore: %s: %w: %w: %d of %d replicas within %v; the master has it",
		op, store.ErrUnavailable, ErrNotReplicated, acked, s.waitReplicas, s.waitTimeout)
}
