// Package failover holds the test of what a Redis Cluster failover does
// to tabkit: 32 browsers keep writing through the kit over HTTP, each to
// a session of its own, while one master is killed with SIGKILL.
//
//	scripts/redis-cluster.sh start   # the shared cluster; the test only needs its URL set
//	TABKIT_REDIS_CLUSTER_URL=$(scripts/redis-cluster.sh url) go test -race -v ./internal/failover/
//
// The test starts a cluster of its own (scripts/redis-cluster.sh on
// free ports in a temporary directory), so killing a master never
// disturbs other packages' tests running at the same time on the shared
// one, and stops it at the end. It kills the master that holds the
// store's index, four times over:
//
//   - without redisstore.Options.WaitReplicas, where the writers on the
//     killed master must recover by themselves once its replica is
//     promoted;
//   - with WaitReplicas 1, where they recover once the killed node has
//     come back as the new master's replica (the test restarts it, as a
//     supervisor would);
//   - both again with the replica behind: frozen, and sent more than the
//     sockets between it and its master hold, so the writes after that
//     exist only on the master when it dies.
//
// Every time:
//
//   - requests for sessions in the killed master's slots are answered
//     503 with Retry-After during the gap, never another error;
//   - requests for sessions on the other masters are all answered 200,
//     and new visitors get sessions there, although the killed master
//     held the store's index;
//   - with WaitReplicas, no write answered 200 is lost; without it and
//     with the replica behind, the test must see acknowledged writes go
//     (it counts them).
//
// It logs the gap, the promotion time, and how many acknowledged writes
// were lost; run it with -v to see them.
//
// # Caveats
//
// Without TABKIT_REDIS_CLUSTER_URL, and with -short, the test skips. It
// needs redis-server and redis-cli, and twelve free loopback ports from
// 7490 up (six nodes and their cluster bus ports). It takes about a
// minute: the cluster's node timeout is 2 s, the replica's election adds
// one to two more, and each case heals the cluster before the next.
package failover
