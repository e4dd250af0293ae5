package redisstore

import "errors"

// ErrNotReplicated is returned, wrapped together with store.ErrUnavailable,
// by a commit or delete that fewer than Options.WaitReplicas replicas
// acknowledged within Options.WaitTimeout. Unlike other unavailable
// errors, the change has been applied on the master: it is visible to
// later reads and may survive, or be lost if that master fails before a
// replica has it.
var ErrNotReplicated = errors.New("redisstore: change not acknowledged by enough replicas")

// ErrCrossSlot is returned by Move on a Redis Cluster when the two IDs
// have different families (store.Family), so their sessions hash to
// different slots and cannot change in one transaction. kit's IDs keep
// their family when regenerated; on a single server any two IDs work.
var ErrCrossSlot = errors.New("redisstore: Move between IDs of different families on a Redis Cluster")
